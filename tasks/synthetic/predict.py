"""`rnn-predict task=synthetic ckpt=... text="0.3 0.81* 0.5 0.12* 0.9"` (or file=, one sequence a line): the
predicted sum of the marked values (`*` marks a value), beside the true sum."""
import math

import torch

from rnnsuite.inputs import UserError, read_texts


def parse_sequence(line, where="text"):
    """"0.3 0.81* 0.5" -> x [T, 2] (value, marker) and the true sum of the marked values."""
    rows = []
    for token in line.split():
        marked = token.endswith("*")
        try:
            value = float(token.rstrip("*"))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UserError(f"{where}: {token!r} is not a finite number (mark a value with a trailing *)")
        rows.append((value, 1.0 if marked else 0.0))
    if len(rows) < 2 or not any(m for _, m in rows):
        raise UserError(f"{where}: give at least two values and mark the ones to add with *, e.g. 0.3 0.81* 0.5")
    x = torch.tensor(rows)
    return x, float((x[:, 0] * x[:, 1]).sum())


def predict(model, cfg):
    lines = read_texts(cfg.text, cfg.file)
    seqs = [parse_sequence(line, "text" if cfg.text is not None else f"{cfg.file} line {i}")
            for i, line in enumerate(lines, 1)]
    trained = model.data_state.get("seq_len")
    out = []
    for (x, true_sum), line in zip(seqs, lines):
        pred = float(model(x[None].to(model.device))[0])
        note = f"  [the model was trained on {trained} steps]" if trained and len(x) != trained else ""
        print(f"{pred:.3f}\t(true {true_sum:.3f})\t{line}{note}")
        out.append(pred)
    return out
