"""`rnn-predict task=sentiment ckpt=... text="..."` (or file=lines.txt): label and probability per line.
`predict_texts` is the Python API's answer (`rnnsuite.load(ckpt).predict(texts)`)."""
from rnnsuite.inputs import read_texts, refuse_unreadable


def predict(model, cfg):
    texts = read_texts(cfg.text, cfg.file)
    refuse_unreadable(texts, model.tokenizer)
    results = model.classify(texts)
    for (label, p, unk), text in zip(results, texts):
        note = f"  [{unk} unknown word{'s' * (unk != 1)}]" if unk else ""
        print(f"{label}\t{p:.3f}\t{text}{note}")
    return results


def predict_texts(model, texts):
    """(label, probability of that label) per text."""
    refuse_unreadable(texts, model.tokenizer)
    return [(label, p) for label, p, _ in model.classify(texts)]
