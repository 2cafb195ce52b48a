"""Time to quality: the suite's default run against a plain PyTorch loop of the same model on the same data.

The plain loop is written the classic way, without Lightning: float32, a fixed step schedule for the learning
rate (x `--gamma` every `--step-every` updates), gradient clipping, validation at fixed intervals, the best
weights kept. For charlm it reads the training split as B stateful streams (the hidden state is carried from
window to window and detached), as char-rnn did. The model, the data split and the validation metric are the
suite's own (built from the same config), so only the training loop differs.

    python scripts/time_to_quality.py bare --task charlm --minutes 19 --out bare_charlm.json
    python scripts/time_to_quality.py plot --suite outputs/charlm/<run> --bare bare_charlm.json --out ttq.png

`plot` reads the suite run's csv/metrics.csv (val metric and time/elapsed_s at each validation) and prints
both curves as a table of the best validation metric reached by each point in time.
"""
import argparse
import copy
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from rnnsuite.config import compose
from rnnsuite.run import build, setup_env


def charlm_eval(model, dm, split):
    """Bits per character over a whole split: consecutive chunks, the state carried (as the suite scores)."""
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for batch in dm.datasets[split]:
            if batch["reset"]:
                state = None
            tokens = batch["tokens"]
            h, state = model.rnn(model.embed(tokens[:, :-1]), state=state)
            y = tokens[:, 1:]
            loss = F.cross_entropy(model.head(h).reshape(-1, model.head.out_features), y.reshape(-1),
                                   reduction="sum")
            total, count = total + float(loss), count + y.numel()
    model.train()
    return total / count / math.log(2)


def bare_charlm(cfg, args):
    dm, model = build(cfg)
    dm.setup()
    B, k = cfg.data.batch_size, cfg.data.k1
    ids = dm.ids["train"]
    L = len(ids) // B
    streams = ids[: B * L].view(B, L)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, args.step_every, args.gamma)
    curve, best, best_state = [], float("inf"), None
    start, pos, state, n = time.perf_counter(), 0, None, 0
    while time.perf_counter() - start < args.minutes * 60:
        if pos + k + 1 > L:  # end of the streams: start over with a fresh state
            pos, state = 0, None
        x, y = streams[:, pos: pos + k], streams[:, pos + 1: pos + k + 1]
        h, state = model.rnn(model.embed(x), state=state)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        loss = F.cross_entropy(model.head(h).reshape(-1, model.head.out_features), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        sched.step()
        pos, n = pos + k, n + 1
        if n % args.eval_every == 0:
            val = charlm_eval(model, dm, "val")
            curve.append({"elapsed_s": time.perf_counter() - start, "updates": n, "val": val})
            print(json.dumps(curve[-1]), flush=True)
            if val < best:
                best, best_state = val, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return {"metric": "val/bpc", "mode": "min", "curve": curve, "best_val": best,
            "test": charlm_eval(model, dm, "test"), "updates": n}


def sentiment_eval(model, loader):
    model.eval()
    right = total = 0
    with torch.no_grad():
        for b in loader:
            right += int((model(b["tokens"], b["lengths"]).argmax(-1) == b["labels"]).sum())
            total += len(b["labels"])
    model.train()
    return right / total


def bare_sentiment(cfg, args):
    dm, model = build(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, args.step_every, args.gamma)
    curve, best, best_state = [], -1.0, None
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < args.minutes * 60:
        for b in dm.train_dataloader():
            # each ensemble member on its own loss, as the suite trains them (one member: plain cross-entropy)
            loss = model.member_loss(model.member_logits(b["tokens"], b["lengths"]), b["labels"])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            sched.step()
            n += 1
            if n % args.eval_every == 0:
                val = sentiment_eval(model, dm.val_dataloader())
                curve.append({"elapsed_s": time.perf_counter() - start, "updates": n, "val": val})
                print(json.dumps(curve[-1]), flush=True)
                if val > best:
                    best, best_state = val, copy.deepcopy(model.state_dict())
            if time.perf_counter() - start >= args.minutes * 60:
                break
    model.load_state_dict(best_state)
    return {"metric": "val/acc", "mode": "max", "curve": curve, "best_val": best,
            "test": sentiment_eval(model, dm.test_dataloader()), "updates": n}


DEFAULTS = {  # the classic recipes: Adam(W) at a constant rate, halved on a fixed step schedule
    "charlm": {"lr": 4e-3, "weight_decay": 0.01, "step_every": 1500, "gamma": 0.5, "clip": 1.0, "eval_every": 840},
    "sentiment": {"lr": 1e-3, "weight_decay": 0.0, "step_every": 300, "gamma": 0.5, "clip": 5.0, "eval_every": 100},
}


def bare(args):
    cfg = compose("train", [f"task={args.task}", "trainer.precision=32-true", f"paths.output_dir={args.workdir}",
                            *args.overrides])
    setup_env(cfg)
    torch.manual_seed(args.seed)
    for k, v in DEFAULTS[args.task].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    res = (bare_charlm if args.task == "charlm" else bare_sentiment)(cfg, args)
    res.update(task=args.task, minutes=args.minutes, recipe={k: getattr(args, k) for k in DEFAULTS[args.task]},
               threads=torch.get_num_threads())
    Path(args.out).write_text(json.dumps(res, indent=2))
    print(f"best val {res['best_val']:.4f}, test {res['test']:.4f} after {res['updates']} updates")


def suite_curve(run_dir):
    import pandas as pd
    df = pd.read_csv(Path(run_dir) / "csv" / "metrics.csv")
    metric = "val/bpc" if "val/bpc" in df else "val/acc"
    rows = df.dropna(subset=["time/elapsed_s"])
    return metric, [{"elapsed_s": float(t), "val": float(v)} for t, v in zip(rows["time/elapsed_s"], rows[metric])]


def best_by(curve, t, lower):
    vals = [p["val"] for p in curve if p["elapsed_s"] <= t]
    return (min(vals) if lower else max(vals)) if vals else None


def plot(args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    metric, suite = suite_curve(args.suite)
    bare_res = json.loads(Path(args.bare).read_text())
    lower = metric.endswith("bpc")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, curve in (("rnnsuite default (Lightning)", suite), ("plain PyTorch loop", bare_res["curve"])):
        ax.plot([p["elapsed_s"] / 60 for p in curve], [p["val"] for p in curve], marker="o", label=name)
    ax.set(xlabel="wall-clock minutes (validation included)", ylabel=metric, title=args.title or metric)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"| minutes | rnnsuite best {metric} so far | plain loop best so far |\n|---|---|---|")
    for t in sorted({p["elapsed_s"] for p in suite + bare_res["curve"]}):  # at each validation of either
        s, b = best_by(suite, t, lower), best_by(bare_res["curve"], t, lower)
        print(f"| {t / 60:.2f} | {'-' if s is None else f'{s:.4f}'} | {'-' if b is None else f'{b:.4f}'} |")
    print(f"figure: {args.out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bare", help="train with the plain loop for a wall-clock budget")
    b.add_argument("--task", choices=sorted(DEFAULTS), required=True)
    b.add_argument("--minutes", type=float, required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=42)
    b.add_argument("--workdir", default="outputs/bare")
    for k in ("lr", "weight_decay", "gamma", "clip"):
        b.add_argument(f"--{k.replace('_', '-')}", type=float)
    for k in ("step_every", "eval_every"):
        b.add_argument(f"--{k.replace('_', '-')}", type=int)
    b.add_argument("overrides", nargs="*", help="config overrides for the data/model (e.g. data.batch_size=32)")
    p = sub.add_parser("plot", help="both curves as a figure and a table")
    p.add_argument("--suite", required=True, help="the suite run's folder")
    p.add_argument("--bare", required=True, help="the plain loop's JSON")
    p.add_argument("--out", required=True)
    p.add_argument("--title")
    args = ap.parse_args()
    bare(args) if args.cmd == "bare" else plot(args)


if __name__ == "__main__":
    main()
