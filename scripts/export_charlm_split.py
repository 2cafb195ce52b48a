"""Charlm's exact train/val/test split for language-model loops outside the project, and a harness that times
and scores them on it (issue 37: the charlm default against pytorch/examples' word_language_model and nanoGPT,
each run from its own repository, never vendored here).

    python scripts/export_charlm_split.py export --wlm DIR --nanogpt DIR [config overrides, e.g. data=shakespeare]
    python scripts/export_charlm_split.py run --log FILE [--max-seconds S] [--snapshot FILE] -- CMD ...
    python scripts/export_charlm_split.py eval-wlm --repo WLM_DIR --data DIR [--split valid] MODEL.pt ...
    python scripts/export_charlm_split.py eval-nanogpt --repo NANOGPT_DIR --data DIR --ckpt CKPT [--split test]

`export` writes the texts charlm's DataModule trains, validates and tests on (the same config, so the same
held-out plays) in two formats:
- word_language_model's (train.txt / valid.txt / test.txt): one token per character. Its data.py splits each
  line on whitespace and appends <eos>, so a line's characters are written space-separated, the newline becomes
  its <eos>, and a whitespace character inside a line becomes a visible stand-in token (the space is "␣"; any
  other as "<U+XXXX>"). Its per-token loss is then a loss per character of the original text, newlines
  included. Only a split whose text does not end in a newline gains one token, an <eos> after its last line.
- nanoGPT's char format (train.bin / val.bin / test.bin, uint16, and meta.pkl with vocab_size, itos, stoi, as
  its data/shakespeare_char/prepare.py writes them), the vocabulary being every character of the three splits.
Both are checked by reading them back (the word_language_model files tokenised as its data.py does) against the
original text, and the character counts against charlm's own split sizes.

`run` starts a command, prefixes every line it prints with the seconds since it started (the log's clock),
samples the load average every 30 s, optionally interrupts it (SIGINT, what word_language_model's Ctrl-C
handler expects: it then tests its best saved model) after --max-seconds, and copies --snapshot FILE each time
the command rewrites it, so each saved model can be scored later.

`eval-wlm` scores saved word_language_model models as its main.py does (10 streams, 64-step chunks, the state
carried), to more digits than its log prints. `eval-nanogpt` scores a nanoGPT checkpoint on a whole split:
every character once, with a context of at least block - stride characters (non-overlapping blocks when stride =
block). Both print nats and bits per character (bits = nats / ln 2).
"""
import argparse
import json
import math
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

SPACE = "\u2423"  # ␣: the space's stand-in token
EOS = "<eos>"
WLM_FILES = {"train": "train.txt", "val": "valid.txt", "test": "test.txt"}
WLM_EVAL_BATCH = 10  # word_language_model's main.py: eval_batch_size = 10, a constant there


# ------------------------------------------------------------------ the split
def charlm_split(overrides=()):
    """{split: text} exactly as charlm's DataModule builds them, and its own character counts."""
    from hydra.utils import instantiate

    from rnnsuite.config import compose
    from rnnsuite.run import setup_env
    cfg = compose("train", ["task=charlm", "paths.output_dir=outputs/export_charlm_split", *overrides])
    setup_env(cfg)
    dm = instantiate(cfg.data, _convert_="all")
    dm.prepare_data()
    dm.setup("fit")
    texts = {k: "".join(dm.splits[k].values()) for k in ("train", "val", "test")}
    counts = {k: dm.describe_split(k)["characters"] for k in texts}
    return texts, counts, {k: list(dm.splits[k]) for k in texts}


def standin(c):
    """The token a character becomes in word_language_model's format (the newline ends a line: its <eos>)."""
    if c == "\n":
        return EOS
    if c == " ":
        return SPACE
    return f"<U+{ord(c):04X}>" if c.isspace() else c


def wlm_text(text):
    """Lines of space-separated character tokens; the text's newlines end the lines."""
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    return "".join(" ".join(standin(c) for c in line) + "\n" for line in lines)


def wlm_tokens(path):
    """Tokens as word_language_model's data.py reads a file: each line split on whitespace, then <eos>."""
    out = []
    with open(path, "r", encoding="utf8") as f:
        for line in f:
            out += line.split() + [EOS]
    return out


def wlm_decode(tokens, table):
    return "".join(table[t] for t in tokens)


def export(args):
    texts, counts, docs = charlm_split(args.overrides)
    for k, t in texts.items():
        if len(t) != counts[k]:
            sys.exit(f"error: {k}: {len(t):,} characters exported, charlm's split has {counts[k]:,}")
    specials = {c for t in texts.values() for c in t if standin(c) != c}
    if any(SPACE in t for t in texts.values()):  # the other stand-ins are longer than one character
        sys.exit(f"error: the text holds {SPACE!r}, the space's stand-in token: choose another")
    table = {standin(c): c for t in texts.values() for c in set(t)}
    report = {"splits": {}, "documents": docs, "standins": {standin(c): repr(c) for c in sorted(specials)}}
    train_chars = set(texts["train"])
    if args.wlm:
        out = Path(args.wlm)
        out.mkdir(parents=True, exist_ok=True)
        for k, t in texts.items():
            path = out / WLM_FILES[k]
            path.write_text(wlm_text(t), encoding="utf8")
            toks = wlm_tokens(path)
            back = wlm_decode(toks, table)
            expect = t if t.endswith("\n") else t + "\n"
            if back != expect:
                sys.exit(f"error: {path} does not read back as charlm's {k} text")
            # main.py batchifies val/test into 10 streams, dropping the remainder: an <eos> added after an
            # unterminated last line is scored only if it survives that cut
            extra = len(toks) - len(t)
            kept = len(toks) // WLM_EVAL_BATCH * WLM_EVAL_BATCH
            report["splits"].setdefault(k, {}).update(
                wlm_tokens=len(toks), wlm_added_eos=extra,
                wlm_added_eos_scored=bool(k != "train" and extra and kept == len(toks)))
        (out / "charmap.json").write_text(json.dumps({tok: c for tok, c in sorted(table.items())}, indent=1))
    if args.nanogpt:
        out = Path(args.nanogpt)
        out.mkdir(parents=True, exist_ok=True)
        chars = sorted(set("".join(texts.values())))
        stoi, itos = {c: i for i, c in enumerate(chars)}, dict(enumerate(chars))
        for k, t in texts.items():
            ids = np.array([stoi[c] for c in t], dtype=np.uint16)
            ids.tofile(out / f"{k}.bin")
            back = np.fromfile(out / f"{k}.bin", dtype=np.uint16)
            if len(back) != len(t) or "".join(itos[int(i)] for i in back) != t:
                sys.exit(f"error: {out / f'{k}.bin'} does not read back as charlm's {k} text")
            report["splits"].setdefault(k, {})["nanogpt_tokens"] = len(back)
        with open(out / "meta.pkl", "wb") as f:
            pickle.dump({"vocab_size": len(chars), "itos": itos, "stoi": stoi}, f)
        report["nanogpt_vocab_size"] = len(chars)
    for k, t in texts.items():
        unseen = sum(c not in train_chars for c in t)
        report["splits"].setdefault(k, {}).update(characters=len(t), charlm_characters=counts[k],
                                                  characters_not_in_train=unseen, ends_with_newline=t.endswith("\n"))
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1, ensure_ascii=False))


# ------------------------------------------------------------------ the timing harness
def run(args):
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        sys.exit("error: run needs a command after --")
    log = open(args.log, "w", buffering=1)
    loads = []
    start = time.perf_counter()

    def stamp(line):
        text = f"{time.perf_counter() - start:9.2f} {line}"
        log.write(text + "\n")
        print(text, flush=True)

    stamp(f"# command: {json.dumps(cmd)}")
    stamp(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # a background shell may start us with SIGINT ignored, which Python would pass on: the child then never
    # sees the KeyboardInterrupt that --max-seconds is meant to raise
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    done = threading.Event()

    def watch():
        seen, interrupted, next_load = None, False, 0.0
        snap = Path(args.snapshot) if args.snapshot else None
        while not done.wait(1.0):
            t = time.perf_counter() - start
            if t >= next_load:
                loads.append([round(t), *(round(x, 2) for x in os.getloadavg())])
                next_load += 30
            if snap is not None and snap.is_file():
                st = snap.stat()
                if (st.st_mtime_ns, st.st_size) != seen:
                    time.sleep(2.0)  # let the writer finish; then copy if unchanged since
                    st2 = snap.stat()
                    if (st2.st_mtime_ns, st2.st_size) == (st.st_mtime_ns, st.st_size):
                        dest = snap.with_name(f"{snap.name}.t{round(t):05d}")
                        shutil.copy2(snap, dest)
                        seen = (st.st_mtime_ns, st.st_size)
                        stamp(f"# snapshot {dest}")
            if args.max_seconds and not interrupted and t >= args.max_seconds:
                stamp(f"# {args.max_seconds:g} s reached: SIGINT")
                proc.send_signal(signal.SIGINT)
                interrupted = True

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for line in proc.stdout:
        stamp(line.rstrip("\n"))
    rc = proc.wait()
    done.set()
    watcher.join()
    stamp(f"# load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    stamp(f"# load samples [s, 1/5/15 min]: {json.dumps(loads)}")
    stamp(f"# exit {rc}")
    sys.exit(rc)


# ------------------------------------------------------------------ scoring
def result(**kw):
    kw["bpc"] = kw["nats"] / math.log(2)
    print(json.dumps(kw), flush=True)
    return kw


def eval_wlm(args):
    """word_language_model's evaluate() of its main.py, on its own Corpus (the same dictionary as training)."""
    import torch
    sys.path.insert(0, str(Path(args.repo).resolve()))
    import data as wlm_data
    import model as wlm_model
    corpus = wlm_data.Corpus(args.data)
    source = getattr(corpus, args.split)
    n = source.size(0) // WLM_EVAL_BATCH
    source = source.narrow(0, 0, n * WLM_EVAL_BATCH).view(WLM_EVAL_BATCH, -1).t().contiguous()
    safe = [wlm_model.RNNModel, torch.nn.Dropout, torch.nn.Linear, torch.nn.GRU, torch.nn.LSTM, torch.nn.RNN,
            torch.nn.Embedding]
    out = []
    for path in args.models:
        with torch.serialization.safe_globals(safe):
            model = torch.load(path)
        model.rnn.flatten_parameters()
        model.eval()
        hidden, total = model.init_hidden(WLM_EVAL_BATCH), 0.0
        with torch.no_grad():
            for i in range(0, source.size(0) - 1, args.bptt):
                seq = min(args.bptt, source.size(0) - 1 - i)
                x, y = source[i:i + seq], source[i + 1:i + 1 + seq].reshape(-1)
                logp, hidden = model(x, hidden)
                total += float(torch.nn.functional.nll_loss(logp, y, reduction="sum"))
        count = (source.size(0) - 1) * WLM_EVAL_BATCH
        out.append(result(model=str(path), split=args.split, nats=total / count, characters_scored=count))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))


def sliding_targets(n, block, stride):
    """(window start s, first scored position) pairs that score each target 1..n-1 of n ids once: window s reads
    ids[s:s+length] and its position p predicts ids[s+p+1], length = min(block, n-1). The last window is moved
    back to end at the last id, so every window has the same length."""
    if not 0 < stride <= block:
        raise ValueError(f"stride must be in 1..block ({block}), got {stride}")
    length = min(block, n - 1)
    out, done, s = [], 0, 0  # targets 1..done are scored
    while done < n - 1:
        s = min(s, n - 1 - length)
        out.append((s, done - s))  # p >= done - s predicts a target after `done`
        done = s + length
        s += stride
    return out, length


def eval_nanogpt(args):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, str(Path(args.repo).resolve()))
    from model import GPT, GPTConfig
    ck = torch.load(args.ckpt, map_location="cpu")
    model = GPT(GPTConfig(**ck["model_args"]))
    model.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in ck["model"].items()})
    model.eval()
    ids = torch.from_numpy(np.fromfile(Path(args.data) / f"{args.split}.bin", dtype=np.uint16).astype(np.int64))
    block = ck["model_args"]["block_size"]
    stride = args.stride or block
    windows, length = sliding_targets(len(ids), block, stride)
    total, count = 0.0, 0
    with torch.no_grad():
        for a in range(0, len(windows), args.batch):
            chunk = windows[a:a + args.batch]
            x = torch.stack([ids[s:s + length] for s, _ in chunk])
            y = torch.stack([ids[s + 1:s + 1 + length] for s, _ in chunk])
            mask = torch.stack([torch.arange(length) >= first for _, first in chunk])
            logits, _ = model(x, y)
            nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none")
            total += float(nll[mask.reshape(-1)].sum())
            count += int(mask.sum())
    if count != len(ids) - 1:
        sys.exit(f"error: scored {count} targets, the split has {len(ids) - 1}")
    out = result(ckpt=str(args.ckpt), split=args.split, iter_num=ck.get("iter_num"), block=block, stride=stride,
                 nats=total / count, characters_scored=count)
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd_name", required=True)
    e = sub.add_parser("export", help="write charlm's split in word_language_model's and nanoGPT's formats")
    e.add_argument("--wlm", help="folder for train.txt / valid.txt / test.txt")
    e.add_argument("--nanogpt", help="folder for train.bin / val.bin / test.bin and meta.pkl")
    e.add_argument("--report", help="also write the check report (JSON) here")
    e.add_argument("overrides", nargs="*", help="config overrides (the data config charlm uses by default)")
    r = sub.add_parser("run", help="run a command with a clock on every output line")
    r.add_argument("--log", required=True)
    r.add_argument("--max-seconds", type=float, help="send SIGINT after this many seconds")
    r.add_argument("--snapshot", help="copy this file each time the command rewrites it")
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    w = sub.add_parser("eval-wlm", help="score saved word_language_model models on a split")
    w.add_argument("--repo", required=True, help="the word_language_model folder (its data.py, model.py)")
    w.add_argument("--data", required=True)
    w.add_argument("--split", choices=["valid", "test", "train"], default="valid")
    w.add_argument("--bptt", type=int, default=64)
    w.add_argument("--out")
    w.add_argument("models", nargs="+")
    g = sub.add_parser("eval-nanogpt", help="score a nanoGPT checkpoint on a whole split")
    g.add_argument("--repo", required=True, help="the nanoGPT folder (its model.py)")
    g.add_argument("--data", required=True, help="the folder holding SPLIT.bin")
    g.add_argument("--ckpt", required=True)
    g.add_argument("--split", choices=["val", "test", "train"], default="test")
    g.add_argument("--stride", type=int, help="characters between windows (default: the block, no overlap)")
    g.add_argument("--batch", type=int, default=32)
    g.add_argument("--out")
    args = ap.parse_args(argv)
    {"export": export, "run": run, "eval-wlm": eval_wlm, "eval-nanogpt": eval_nanogpt}[args.cmd_name](args)


if __name__ == "__main__":
    main()
