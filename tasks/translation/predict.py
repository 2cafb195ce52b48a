"""`rnn-predict task=translation ckpt=... text="..." [beam_size=5] [too_long=truncate]` or file=lines.txt:
one translation per input line."""
import warnings

from rnnsuite.inputs import positive_int, read_texts


def predict(model, cfg):
    texts = read_texts(cfg.text, cfg.file)
    beam = positive_int(cfg.beam_size, "beam_size")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = model.translate(texts, beam=beam, too_long=cfg.get("too_long", "error"))
    for w in caught:
        print(f"warning: {w.message}")
    for text in texts:
        unk = model.src_tokenizer.unknown(text)
        if unk:
            print(f"warning: characters never seen in training read as <unk>: {' '.join(sorted(set(unk)))}")
    for t in out:
        print(t)
    return out
