"""`rnn-predict task=charlm ckpt=... prime="ROMEO:" length=500 temperature=0.8 top_k=20`: generated text.
file=PATH reads the prime from a UTF-8 file instead (the text to continue)."""
from pathlib import Path

from rnnsuite.inputs import positive_int, read_text_file


def predict(model, cfg):
    top_k = None if cfg.top_k is None else positive_int(cfg.top_k, "top_k")
    prime = read_text_file(cfg.file) if cfg.get("file") else ("" if cfg.prime is None else str(cfg.prime))
    text = model.generate(prime, cfg.length, cfg.temperature, top_k, cfg.seed)
    print(text)
    if cfg.out:
        Path(cfg.out).write_text(text + "\n", encoding="utf-8")
    return text
