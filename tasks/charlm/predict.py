"""`rnn-predict task=charlm ckpt=... prime="ROMEO:" length=500 temperature=0.8 top_k=20`: generated text."""
from pathlib import Path

from rnnsuite.inputs import UserError, generation_args


def predict(model, cfg):
    length, temperature = generation_args(cfg.length, cfg.temperature, "characters")
    if cfg.top_k is not None and int(cfg.top_k) <= 0:
        raise UserError(f"top_k must be a positive integer or null, got {cfg.top_k}")
    prime = "" if cfg.prime is None else str(cfg.prime)
    unknown = sorted({c for c in prime if c not in model.chars})
    if unknown:
        raise UserError(f"the prime has characters the model never saw in training: "
                        f"{', '.join(repr(c) for c in unknown)}; remove or replace them")
    text = model.generate(prime, length, temperature, cfg.top_k, cfg.seed)
    print(text)
    if cfg.out:
        Path(cfg.out).write_text(text + "\n", encoding="utf-8")
    return text
