"""`rnn-predict task=charlm ckpt=... prime="ROMEO:" length=500 temperature=0.8 top_k=20`: generated text.
file=PATH reads the prime from a UTF-8 file instead (the text to continue)."""
from rnnsuite.atomic import write_text
from rnnsuite.inputs import MAX_LINE, UserError, positive_int, read_text_file


def predict(model, cfg):
    top_k = None if cfg.top_k is None else positive_int(cfg.top_k, "top_k")
    prime = read_text_file(cfg.file) if cfg.get("file") else ("" if cfg.prime is None else str(cfg.prime))
    if len(prime) > MAX_LINE:
        raise UserError(f"the prime ({cfg.get('file') or 'prime='}) is {len(prime):,} characters long; the limit is "
                        f"{MAX_LINE:,}: give its last part")
    text = model.generate(prime, cfg.length, cfg.temperature, top_k, cfg.seed)
    print(text)
    if cfg.out:
        write_text(cfg.out, text + "\n")
    return text
