"""Choose the beam's length penalty on the validation split (verses of every length): BLEU of greedy decoding
and of beam search at each GNMT alpha, overall and per English source length.

    python scripts/translation_length_penalty.py --ckpt outputs/translation/<run>/checkpoints/best.ckpt \
        [--beam 5] [--alphas 0 0.6 1.0 1.4]

The data (split, filters) are rebuilt from the run folder's config.yaml with the checkpoint's tokenisers;
the test split is never read. Set model.length_penalty to the alpha with the best validation BLEU.
"""
import argparse
import json
from pathlib import Path

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.6, 1.0, 1.4])
    args = ap.parse_args()
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from rnnsuite.checkpoints import load_checkpoint
    from rnnsuite.metrics import bleu_chrf
    from rnnsuite.tasks.translation.model import BUCKETS
    model = load_checkpoint(args.ckpt, "translation")
    cfg = OmegaConf.load(Path(args.ckpt).parents[1] / "config.yaml")
    dm = instantiate(cfg.data, _convert_="all")
    dm.load_state(model.data_state)
    dm.setup()
    val = dm.splits["val"]
    words = val["src"].str.split().str.len().to_numpy()
    refs = list(val["tgt"])
    out = {}
    runs = [("greedy", 1, None)] + [(f"beam{args.beam} alpha {a:g}", args.beam, a) for a in args.alphas]
    for name, beam, alpha in runs:
        hyps = {}
        with torch.no_grad():
            for batch in dm.val_dataloader():
                ids = model.decode(batch["src"], batch["src_lengths"], beam, alpha)
                hyps.update(zip(batch["index"].tolist(), ids))
        texts = [model.tgt_tokenizer.decode(hyps[i]) for i in range(len(val))]
        row = {"all": round(bleu_chrf(texts, [[r] for r in refs])["bleu"], 2)}
        for lo, hi in BUCKETS:
            sel = [i for i in range(len(val)) if lo <= words[i] <= hi]
            if sel:
                label = f"{lo}-{hi}" if hi < 10**6 else f"{lo}+"
                row[label] = round(bleu_chrf([texts[i] for i in sel], [[refs[i]] for i in sel])["bleu"], 2)
        out[name] = row
        print(f"{name:18s} " + "  ".join(f"{k} {v:5.2f}" for k, v in row.items()), flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
