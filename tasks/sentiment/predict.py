"""`rnn-predict task=sentiment ckpt=... text="..."` (or file=lines.txt): label and probability per line."""
from pathlib import Path

from rnnsuite.cli.common import UserError


def read_inputs(cfg):
    """Texts from text= or file= (one per line); an empty or whitespace-only input is an error."""
    if cfg.text is not None:
        texts = [str(cfg.text)]
    elif cfg.file:
        path = Path(cfg.file)
        if not path.is_file():
            raise UserError(f"input file not found: {cfg.file}")
        try:
            texts = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise UserError(f"{cfg.file} is not UTF-8 text ({e.reason} at byte {e.start})") from None
        texts = [t for t in texts if t.strip()]
        if not texts:
            raise UserError(f"{cfg.file} has no non-empty lines")
    else:
        raise UserError('give text="..." or file=PATH (one input per line)')
    for i, t in enumerate(texts, 1):
        if not t.strip():
            raise UserError("empty text: give at least one word" if len(texts) == 1 else f"line {i} is empty")
    return texts


def predict(model, cfg):
    texts = read_inputs(cfg)
    results = model.classify(texts)
    for (label, p, unk), text in zip(results, texts):
        note = f"  [{unk} unknown word{'s' * (unk != 1)}]" if unk else ""
        print(f"{label}\t{p:.3f}\t{text}{note}")
    return results
