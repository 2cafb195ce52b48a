"""`rnn-bench`: the suite's speed on this machine, as ratios taken in one run (medians of repeats).

    rnn-bench [--json FILE] [--quick] [--tasks charlm sentiment ...] [--figure bench.png] [--repeats 5]

- cells: fused vs step forward+backward per cell at B=64, T=100, H=256/512, as GFLOP/s and as a fraction of
  the matmul peak measured in the same run (the [B*T, H] x [H, G*H] input-projection GEMM, the largest
  kernel a cell runs); bf16 vs float32 where the CPU has bf16 instructions (AVX512-BF16, AMX), which is
  where `precision=auto` may pick it (rnnsuite.training.precision).
- tasks (each in its own process, so its peak RSS is its own): the task's default config; training steps/s
  of the suite (Lightning Trainer from the task's config, its default callbacks, CSV logger) against a bare
  PyTorch loop of the same model on the same batches; the input pipeline's batches/s against the bare
  model's steps/s; decoding speed (charlm, translation, captioning); peak RSS of the process.
- scaling: fused LSTM forward+backward time per step against T, H and B, at 1 and 2 threads (a figure).

`--quick` uses the tasks' test fixtures and tiny sizes: it checks that every figure is produced, not speed.
"""
import argparse
import copy
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import torch

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def suite_tasks():
    """The suite's own registered tasks (tasks of other distributions are benchmarked by naming them)."""
    from ..registry import BUILTIN_CONFIG, all_tasks
    return [name for name, task in all_tasks().items() if task.config == BUILTIN_CONFIG]


def median_time(fn, repeats, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def machine():
    from ..training.precision import choose_precision, cpu_flags, cpu_name
    flags = cpu_flags()
    wanted = ("avx2", "avx512_f", "avx512_bf16", "amx_bf16", "fma3", "neon", "sve")
    return {"cpu": cpu_name(), "flags": [f for f in wanted if f in flags], "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "date": date.today().isoformat(),
            "precision": choose_precision("auto", "cpu")[0], "gpu": torch.cuda.get_device_name()
            if torch.cuda.is_available() else None}


# ------------------------------------------------------------------ cells
def charlm_shape(quick):
    """charlm's default LSTM as the task trains it: (layers, embedding, hidden, streams, window) from its config."""
    from ..config import compose
    cfg = compose(overrides=["task=charlm"])
    m, d = cfg.model, cfg.data
    shape = (m.num_layers, m.embed_dim, m.hidden_size, d.batch_size, d.k2)
    return (shape[0], 16, 32, 8, 10) if quick else shape


def bench_cells(quick, repeats):
    """Each cell's fused and step backends (one layer, input = hidden) against the matmul peak, then charlm's default
    stack at its own shape (the bound of that task's float32 step rate)."""
    from ..cells import RecurrentStack
    from ..training.precision import CPU_BF16_FLAGS, cpu_flags, onednn_bf16
    B, T = (8, 10) if quick else (64, 100)
    bf16 = bool(set(CPU_BF16_FLAGS) & cpu_flags()) and onednn_bf16()  # elsewhere bf16 is emulated
    layers, E, Hc, Bc, Tc = charlm_shape(quick)
    shapes = [(cell, 1, H, H, B, T, None) for H in ((32,) if quick else (256, 512)) for cell in ("rnn", "lstm", "gru")]
    shapes.append(("lstm", layers, E, Hc, Bc, Tc, "charlm default"))
    rows = []
    for cell, L, In, H, B, T, label in shapes:
        x = torch.randn(B, T, In)
        G = GATES[cell]
        a, w = torch.randn(B * T, H), torch.randn(H, G * H)
        peak = 2 * B * T * H * G * H / median_time(lambda a=a, w=w: a @ w, repeats * 4)
        # forward: input + recurrent projections of each layer, 2*B*T*G*H*(I+H); backward ~ twice that
        flops = 3 * 2 * B * T * G * H * ((In + H) + (L - 1) * 2 * H)
        row = {"cell": cell, "H": H, "B": B, "T": T, "matmul_peak_gflops": peak / 1e9}
        if label:
            row |= {"label": f"{cell}, {label} ({L} layers, input {In}, B {B}, T {T})", "layers": L, "input": In}
        for backend in ("fused", "step"):
            torch.manual_seed(0)
            stack = RecurrentStack(cell, In, H, num_layers=L, backend=backend)

            def fwd_bwd(stack=stack, autocast=False, x=x):
                stack.zero_grad()
                with torch.autocast("cpu", torch.bfloat16, enabled=autocast):
                    y, _ = stack(x)
                y.float().sum().backward()
            t = median_time(fwd_bwd, repeats)
            row[f"{backend}_gflops"] = flops / t / 1e9
            row[f"{backend}_of_peak"] = flops / t / peak
            if backend == "fused" and bf16:
                row["bf16_over_fp32"] = t / median_time(lambda s=stack: fwd_bwd(s, True), repeats)
        row["fused_over_step"] = row["fused_gflops"] / row["step_gflops"]
        row.setdefault("bf16_over_fp32", None)
        rows.append(row)
    return rows


# ------------------------------------------------------------------ scaling
def bench_scaling(quick, repeats):
    from ..cells import RecurrentStack
    base = {"T": 100, "H": 256, "B": 64} if not quick else {"T": 8, "H": 16, "B": 4}
    grid = {"T": [25, 50, 100, 200], "H": [128, 256, 512], "B": [16, 32, 64, 128]} if not quick else \
        {"T": [4, 8], "H": [8, 16], "B": [2, 4]}
    threads0 = torch.get_num_threads()
    rows = []
    for threads in sorted({1, min(2, os.cpu_count() or 1)}):
        torch.set_num_threads(threads)
        for var, values in grid.items():
            for v in values:
                s = {**base, var: v}
                stack = RecurrentStack("lstm", s["H"], s["H"])
                x = torch.randn(s["B"], s["T"], s["H"])

                def fwd_bwd(stack=stack, x=x):
                    stack.zero_grad()
                    stack(x)[0].sum().backward()
                rows.append({"threads": threads, "vary": var, **s, "ms": 1e3 * median_time(fwd_bwd, repeats)})
    torch.set_num_threads(threads0)
    return rows


def scaling_figure(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, var in zip(axes, ("T", "H", "B")):
        for threads in sorted({r["threads"] for r in rows}):
            pts = [(r[var], r["ms"]) for r in rows if r["vary"] == var and r["threads"] == threads]
            ax.plot(*zip(*pts), marker="o", label=f"{threads} thread{'s' if threads > 1 else ''}")
        first = next(r for r in rows if r["vary"] == var)  # the other two sizes stay at the base values
        fixed = ", ".join(f"{k}={first[k]}" for k in ("T", "H", "B") if k != var)
        ax.set(xlabel=var, ylabel="ms per forward+backward", title=f"LSTM, vary {var} ({fixed})")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


# ------------------------------------------------------------------ tasks
class _StepClock:
    """A Lightning callback timing training steps after `warmup` of them (Trainer setup excluded)."""

    def __new__(cls, warmup):
        import pytorch_lightning as pl

        class Clock(pl.Callback):
            def __init__(self):
                self.start = self.end = None
                self.steps = 0

            def on_train_batch_start(self, trainer, module, batch, batch_idx):
                if batch_idx == warmup:
                    self.start = time.perf_counter()

            def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
                if batch_idx >= warmup:
                    self.steps += 1
                    self.end = time.perf_counter()
        return Clock()


def task_config(task, quick, output_dir):
    from ..config import compose
    over = [f"task={task}", "logger=csv", f"paths.output_dir={output_dir}"]
    if quick:  # the task's registered fixture (small generated data), with a tiny model
        from ..registry import get_task
        over += [*get_task(task).fixture, "model.hidden_size=16"]
    return compose("train", over)


def bare_steps(model, opt, batches, warm, clip, autocast=False):
    """A bare PyTorch training loop over `batches`; seconds from the start of step `warm` to the end."""
    t0 = None
    for i, batch in enumerate(batches):
        if i == warm:
            t0 = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=autocast):
            loss = model.training_step(batch, i)
        opt.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    return time.perf_counter() - t0


def suite_trainer(cfg, warm, **overrides):
    """(Trainer, clock): the config's Trainer for one timed epoch, with its default callbacks and loggers but
    nothing that validates or checkpoints (the bench validates nothing to monitor); the clock times the steps
    after `warm`."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from ..run import build_callbacks, build_loggers
    clock = _StepClock(warm)
    trainer_cfg = OmegaConf.to_container(cfg.trainer, resolve=True)
    trainer_cfg.update(max_epochs=1, max_time=None, limit_val_batches=0, num_sanity_val_steps=0, **overrides)
    callbacks = [c for c in build_callbacks(cfg, True) if "Checkpoint" not in type(c).__name__
                 and "EarlyStopping" not in type(c).__name__]
    trainer = instantiate(trainer_cfg, logger=build_loggers(cfg) or False, callbacks=[*callbacks, clock],
                          enable_checkpointing=False, enable_model_summary=False)
    return trainer, clock


def bench_task(task, quick, repeats, output_dir):
    """Suite vs bare training steps/s, input pipeline, decoding, peak RSS: one task's default config."""
    import pytorch_lightning as pl
    from omegaconf import OmegaConf

    from ..run import build, setup_env
    from ..training.base import build_optimizer
    from ..training.precision import resolve_trainer_precision
    cfg = task_config(task, quick, output_dir)
    if cfg.optim.get("scheduler") == "plateau":  # it needs a val metric; the bench validates nothing
        cfg.optim.scheduler = "none"
    setup_env(cfg)
    precision = resolve_trainer_precision(cfg)["precision"]
    pl.seed_everything(0, verbose=False)
    dm, model = build(cfg)
    n, warm = (6, 2) if quick else (60, 10)

    # the input pipeline alone: batches/s of a fresh pass of the training loader
    make_loader = dm.train_dataloader

    def pipeline():  # passes over the loader (a fixture's may be shorter than n batches)
        out = []
        while len(out) < n:
            out += list(itertools.islice(make_loader(), n - len(out)))
        return out
    batches = pipeline()
    pipe_s = median_time(pipeline, repeats, warmup=0)

    clip = cfg.trainer.get("gradient_clip_val") or 0.0
    init = copy.deepcopy(model.state_dict())
    autocast = precision.startswith("bf16")

    def bare():
        model.load_state_dict(init)
        model.trainer = None  # a previous Lightning fit left its Trainer attached; the bare loop has none
        model.train()
        opt = build_optimizer(model.parameters(), OmegaConf.to_container(cfg.optim))
        return bare_steps(model, opt, batches, warm, clip, autocast)

    def lightning():
        model.load_state_dict(init)
        trainer, clock = suite_trainer(cfg, warm, limit_train_batches=n)
        loader = torch.utils.data.DataLoader(batches, batch_size=None, collate_fn=lambda b: b)
        dm.train_dataloader = lambda: loader  # the same batches as the bare loop; the datamodule stays attached
        trainer.fit(model, datamodule=dm)
        return clock.end - clock.start

    bare_t, light_t = [], []
    for _ in range(repeats):  # interleaved, so drifts in machine speed hit both alike
        bare_t.append(bare())
        light_t.append(lightning())
    steps = n - warm
    bare_sps, light_sps = steps / statistics.median(bare_t), steps / statistics.median(light_t)
    out = {"task": task, "precision": precision, "steps": steps, "bare_steps_per_s": bare_sps,
           "suite_steps_per_s": light_sps, "suite_over_bare": light_sps / bare_sps,
           "pipeline_batches_per_s": n / pipe_s, "pipeline_over_model": n / pipe_s / bare_sps}
    out.update(bench_decoding(task, model, dm, quick, repeats))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def trainer_overhead(quick, repeats, output_dir):
    """What a training step costs in the suite's Trainer (the default callbacks, CSV logger, clipping) beyond a
    bare loop, on a model whose own step costs next to nothing: the fixed cost per step, in ms. A task whose bare
    step takes t can reach at most suite/bare = t / (t + fixed)."""
    import pytorch_lightning as pl

    from ..run import setup_env
    cfg = task_config("synthetic", quick, output_dir)
    setup_env(cfg)
    n, warm = (30, 10) if quick else (1000, 100)
    batches = [torch.randn(8, 4) for _ in range(n)]

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 1)

        def training_step(self, batch, batch_idx):
            return self.lin(batch).square().mean()

        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters(), 1e-3)

    def bare():
        model = Tiny()
        return bare_steps(model, model.configure_optimizers(), batches, warm, clip=1.0) / (n - warm)

    def lightning():
        trainer, clock = suite_trainer(cfg, warm, gradient_clip_val=1.0, precision="32-true")
        trainer.fit(Tiny(), torch.utils.data.DataLoader(batches, batch_size=None))
        return (clock.end - clock.start) / clock.steps

    bare_t, light_t = [], []
    for _ in range(repeats):
        bare_t.append(bare())
        light_t.append(lightning())
    b, s = statistics.median(bare_t), statistics.median(light_t)
    return {"bare_ms": b * 1e3, "suite_ms": s * 1e3, "fixed_ms": (s - b) * 1e3}


def bench_decoding(task, model, dm, quick, repeats):
    model.eval()
    out = {}
    with torch.no_grad():
        if task == "charlm":
            for n in ((10, 100) if quick else (100, 1000, 10000)):
                t = median_time(lambda n=n: model.generate("The ", n, temperature=0.8, seed=0),
                                max(1, repeats // 2))
                out[f"chars_per_s_{n}"] = n / t
        elif task == "translation":
            batch = next(iter(dm.test_dataloader()))
            src, lengths = batch["src"], batch["src_lengths"]
            for beam in (1, 5):
                t = median_time(lambda b=beam: model.decode(src, lengths, beam=b), repeats)
                out[f"sentences_per_s_beam{beam}"] = src.size(0) / t
            out["beam5_time_over_greedy"] = out["sentences_per_s_beam1"] / out["sentences_per_s_beam5"]
        elif task == "captioning":
            images = next(iter(dm.test_dataloader()))["images"]
            out["images_per_s"] = images.size(0) / median_time(lambda: model.generate(images), repeats)
    return out


# ------------------------------------------------------------------ report
def fmt(v, digits=2):
    return "-" if v is None else f"{v:,.{digits}f}" if isinstance(v, float) else str(v)


def markdown(res):
    m = res["machine"]
    lines = [f"rnn-bench {'--quick ' if res['quick'] else ''}on {m['cpu']} ({', '.join(m['flags'])}), "
             f"{m['threads']} threads, torch {m['torch']}, {m['date']}; auto precision on CPU: {m['precision']}"]
    if res["cells"]:
        lines += ["", "| cell | H | fused GFLOP/s | step GFLOP/s | fused / step | fused of matmul peak | "
                  "step of matmul peak | matmul peak GFLOP/s | bf16 / fp32 |", "|---|---|---|---|---|---|---|---|---|"]
    for r in res["cells"]:
        lines.append(f"| {r.get('label', r['cell'])} | {r['H']} | {fmt(r['fused_gflops'], 1)} | "
                     f"{fmt(r['step_gflops'], 1)} | "
                     f"{fmt(r['fused_over_step'])} | {fmt(r['fused_of_peak'])} | {fmt(r['step_of_peak'])} | "
                     f"{fmt(r['matmul_peak_gflops'], 1)} | "
                     f"{fmt(r['bf16_over_fp32']) if r['bf16_over_fp32'] else 'not native'} |")
    if res["tasks"]:
        lines += ["", "| task | precision | suite steps/s | bare steps/s | suite / bare | bound | pipeline batches/s | "
                  "pipeline / model | decoding | peak RSS MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["tasks"]:
        if "error" in r:
            lines.append(f"| {r['task']} | failed: {r['error']} |" + " |" * 8)
            continue
        dec = "; ".join(f"{k.replace('_per_s', '/s').replace('_', ' ')} {fmt(v, 0 if v > 100 else 2)}"
                        for k, v in r.items() if "per_s_" in k or k in ("images_per_s", "beam5_time_over_greedy"))
        lines.append(f"| {r['task']} | {r['precision']} | {fmt(r['suite_steps_per_s'], 1)} | "
                     f"{fmt(r['bare_steps_per_s'], 1)} | {fmt(r['suite_over_bare'])} | "
                     f"{fmt(r.get('suite_over_bare_bound'))} | "
                     f"{fmt(r['pipeline_batches_per_s'], 0)} | {fmt(r['pipeline_over_model'], 1)} | {dec or '-'} | "
                     f"{fmt(r['peak_rss_mb'], 0)} |")
    if res.get("overhead"):
        o = res["overhead"]
        lines += ["", f"bound: suite/bare if each step paid only the suite Trainer's fixed cost, "
                  f"{fmt(o['fixed_ms'])} ms a step (a 4-to-1 linear model: bare loop {fmt(o['bare_ms'])} ms, "
                  f"suite {fmt(o['suite_ms'])} ms)"]
    if res.get("figure"):
        lines += ["", f"scaling figure: {res['figure']}"]
    return "\n".join(lines)


def run_task(task, args):
    """One task in a fresh process, so that its peak RSS is its own (--quick: in this process, faster)."""
    if args.quick:
        return task_in_this_process(task, args)
    cmd = [sys.executable, "-m", "rnnsuite.cli.bench", "--task-only", task, "--repeats", str(args.repeats)]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    print(f"[rnn-bench] task {task}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    if r.returncode != 0:  # the other tasks' figures are kept; the row says what failed
        print(f"[rnn-bench] task {task} failed:\n{r.stderr[-3000:]}", file=sys.stderr)
        return {"task": task, "error": (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]}
    line = r.stdout.strip().splitlines()[-1]
    print(f"[rnn-bench] {line}", file=sys.stderr)  # each task's figures as soon as they are measured
    return json.loads(line)


def task_in_this_process(task, args):
    import contextlib
    import tempfile
    import warnings
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(sys.stderr):  # keep stdout for results
        return bench_task(task, args.quick, args.repeats, d)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="rnn-bench", description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--quick", action="store_true", help="tiny sizes and the test fixtures: checks, not speed")
    ap.add_argument("--tasks", nargs="*", help="registered task names (default: the suite's own tasks)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per figure (median); 5, or 1 with --quick")
    ap.add_argument("--figure", default="bench.png", help="where the scaling figure goes")
    ap.add_argument("--sections", nargs="+", default=["cells", "tasks", "scaling"],
                    choices=["cells", "tasks", "scaling"], help="what to measure (default: all three)")
    ap.add_argument("--task-only", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 5)
    args.tasks = args.tasks or suite_tasks()
    os.environ.setdefault("WANDB_MODE", "disabled")
    if args.task_only:
        print(json.dumps(task_in_this_process(args.task_only, args)))
        return
    res = {"machine": machine(), "quick": args.quick, "repeats": args.repeats,
           "cells": bench_cells(args.quick, args.repeats) if "cells" in args.sections else [],
           "tasks": [run_task(t, args) for t in args.tasks] if "tasks" in args.sections else []}
    if res["tasks"]:
        import contextlib
        import tempfile
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(sys.stderr):
            res["overhead"] = trainer_overhead(args.quick, args.repeats, d)
        for t in res["tasks"]:
            if "bare_steps_per_s" in t:  # the most suite/bare can be with that fixed cost added to each step
                fixed_s = max(0.0, res["overhead"]["fixed_ms"]) / 1e3
                t["suite_over_bare_bound"] = 1 / (1 + fixed_s * t["bare_steps_per_s"])
    res["scaling"] = bench_scaling(args.quick, args.repeats) if "scaling" in args.sections else []
    res["figure"] = scaling_figure(res["scaling"], args.figure) if res["scaling"] else None
    print(markdown(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    if any("error" in t for t in res["tasks"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
