"""`rnn-predict task=translation ckpt=... text="..." [beam_size=N] [too_long=truncate]` or file=lines.txt:
one translation per input line, with the model's own beam (model.beam_size) unless beam_size= is given."""
import warnings

from rnnsuite.inputs import positive_int, read_texts, refuse_unreadable, warn
from .data import normalise


def predict(model, cfg):
    texts = read_texts(cfg.text, cfg.file)
    refuse_unreadable([normalise(t) for t in texts], model.src_tokenizer)
    # by default the beam the model was tested with
    beam = positive_int(model.hparams.beam_size if cfg.beam_size is None else cfg.beam_size, "beam_size")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = model.translate(texts, beam=beam, too_long=cfg.get("too_long", "error"))
    for w in caught:
        warn(w.message)
    for text in texts:
        unk = model.src_tokenizer.unknown(normalise(text))  # what the model reads, e.g. ’ as '
        if unk:
            warn(f"characters never seen in training read as <unk>: {' '.join(sorted(set(unk)))}")
    for t in out:
        print(t)
    return out
