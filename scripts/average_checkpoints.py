"""Average the weights of several checkpoints of one task and shape into one checkpoint (a "model soup").

    python scripts/average_checkpoints.py --out avg.ckpt run1/checkpoints/best.ckpt run2/checkpoints/best.ckpt ...
    rnn-eval task=sentiment ckpt=avg.ckpt

The first checkpoint gives everything but the weights (hyperparameters, data state, task tag). Floating-point
tensors are averaged; integer buffers (counters) are taken from the first. Averaging only helps models that sit
in one basin (fine-tuned from one shared start, or checkpoints of one run); independently initialised seeds
usually do not.
"""
import argparse

import torch

from rnnsuite.training import average_state_dicts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("ckpts", nargs="+")
    args = ap.parse_args()
    raws = [torch.load(p, map_location="cpu", weights_only=True) for p in args.ckpts]
    tasks = {r.get("rnnsuite", {}).get("task") for r in raws}
    if len(tasks) != 1:
        raise SystemExit(f"error: the checkpoints come from different tasks: {sorted(map(str, tasks))}")
    out = {k: v for k, v in raws[0].items() if k in ("state_dict", "hyper_parameters", "rnnsuite",
                                                      "pytorch-lightning_version")}
    out["state_dict"] = average_state_dicts([r["state_dict"] for r in raws])
    torch.save(out, args.out)
    print(f"averaged {len(raws)} checkpoints into {args.out}")


if __name__ == "__main__":
    main()
