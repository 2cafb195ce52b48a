"""Characters per second of charlm sampling at batch 1, for growing generated lengths.

Each character costs one `RecurrentStack.step` with the carried state, so the rate should stay flat as the
length grows (a model that re-ran the prefix would slow down linearly).

    python scripts/bench_generation.py [--ckpt outputs/charlm/.../best.ckpt] [--lengths 100 1000 10000]

Without --ckpt it times a randomly initialised model of the default charlm size (conf/task/charlm.yaml).
"""
import argparse
import time

import torch


def build_default():
    from omegaconf import OmegaConf

    from rnnsuite.cli.common import conf_root
    from rnnsuite.tasks.charlm.model import CharLM
    task = OmegaConf.create((conf_root() / "task" / "charlm.yaml").read_text()).model
    cell = OmegaConf.to_container(OmegaConf.create((conf_root() / "cell" / "lstm.yaml").read_text()))
    chars = "".join(chr(c) for c in range(32, 127)) + "\n"
    model = CharLM(len(chars) + 1, cell, embed_dim=task.embed_dim, hidden_size=task.hidden_size,
                   num_layers=task.num_layers)
    model.set_data_state({"chars": chars})
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt")
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.ckpt:
        from rnnsuite.cli.common import load_checkpoint
        model = load_checkpoint(args.ckpt, "charlm", map_location=args.device)
    else:
        model = build_default().to(args.device).eval()
    h = model.hparams
    print(f"model: {h.cell['type']} {h.num_layers}x{h.hidden_size}, vocab {h.vocab_size}, device {args.device}, "
          f"torch threads {torch.get_num_threads()}")
    model.generate("The ", 50, temperature=0.8, seed=0)  # warm-up
    print(f"{'length':>8} {'seconds':>9} {'chars/s':>9}")
    for n in args.lengths:
        t = time.perf_counter()
        model.generate("The ", n, temperature=0.8, seed=0)
        dt = time.perf_counter() - t
        print(f"{n:8d} {dt:9.3f} {n / dt:9.0f}", flush=True)


if __name__ == "__main__":
    main()
