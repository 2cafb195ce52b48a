"""`rnn-predict task=charlm ckpt=... prime="ROMEO:" length=500 temperature=0.8 top_k=20`: generated text.
file=PATH reads the prime from a UTF-8 file instead (the text to continue). `sample` is the Python API's answer
(`rnnsuite.load(ckpt).sample(prime, length)`)."""
from rnnsuite.atomic import write_text
from rnnsuite.inputs import MAX_LINE, UserError, positive_int, read_text_file


def predict(model, cfg):
    prime = read_text_file(cfg.file) if cfg.get("file") else cfg.prime
    text = sample(model, prime, cfg.length, cfg.temperature, cfg.top_k, cfg.seed, where=cfg.get("file") or "prime=")
    print(text)
    if cfg.out:
        write_text(cfg.out, text + "\n")
    return text


def sample(model, prime="", length=500, temperature=1.0, top_k=None, seed=0, where="prime"):
    """`length` characters generated after `prime` (returned with it), at `temperature`, from the `top_k` most
    likely characters (None: all); the same seed gives the same text."""
    top_k = None if top_k is None else positive_int(top_k, "top_k")
    prime = "" if prime is None else str(prime)
    if len(prime) > MAX_LINE:
        raise UserError(f"the prime ({where}) is {len(prime):,} characters long; the limit is {MAX_LINE:,}: give "
                        "its last part")
    return model.generate(prime, length, temperature, top_k, seed)
