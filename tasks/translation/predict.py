"""`rnn-predict task=translation ckpt=... text="..." [beam_size=N] [too_long=truncate]` or file=lines.txt:
one translation per input line, with the model's own beam (model.beam_size) unless beam_size= is given.
`predict_texts` is the Python API's answer (`rnnsuite.load(ckpt).predict(texts)`)."""
import warnings

from rnnsuite.inputs import positive_int, read_texts, refuse_unreadable, warn
from .data import normalise


def predict(model, cfg):
    texts = read_texts(cfg.text, cfg.file)
    out = predict_texts(model, texts, cfg.beam_size, cfg.get("too_long", "error"))
    for t in out:
        print(t)
    return out


def predict_texts(model, texts, beam_size=None, too_long="error"):
    """One translation per text; warnings (a source truncated, characters never seen) go to stderr."""
    refuse_unreadable([normalise(t) for t in texts], model.src_tokenizer)
    # by default the beam the model was tested with
    beam = positive_int(model.hparams.beam_size if beam_size is None else beam_size, "beam_size")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = model.translate(texts, beam=beam, too_long=too_long)
    for w in caught:
        warn(w.message)
    for text in texts:
        unk = model.src_tokenizer.unknown(normalise(text))  # what the model reads, e.g. ’ as '
        if unk:
            warn(f"characters never seen in training read as <unk>: {' '.join(sorted(set(unk)))}")
    return out
