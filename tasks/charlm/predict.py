"""`rnn-predict task=charlm ckpt=... prime="ROMEO:" length=500 temperature=0.8 top_k=20`: generated text."""
from pathlib import Path

from rnnsuite.cli.common import UserError


def predict(model, cfg):
    try:
        length = int(cfg.length)
        temperature = float(cfg.temperature)
    except (TypeError, ValueError):
        raise UserError(f"length and temperature must be numbers, got {cfg.length!r} and {cfg.temperature!r}") from None
    if length <= 0:
        raise UserError(f"length must be a positive number of characters, got {length}")
    if temperature <= 0:
        raise UserError(f"temperature must be > 0 (lower is more conservative), got {temperature}")
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
