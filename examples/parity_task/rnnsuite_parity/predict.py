"""`rnn-predict task=parity ckpt=... text=1011` (or file=, one string a line): odd or even, and how sure."""
import torch

from rnnsuite.inputs import UserError, read_texts


def predict(model, cfg):
    lines = read_texts(None if cfg.text is None else str(cfg.text), cfg.file)
    out = []
    for line in lines:
        bits = line.strip()
        if set(bits) - {"0", "1"}:
            raise UserError(f"{bits!r} is not a bit string: use only 0 and 1")
        p = torch.softmax(model(torch.tensor([[float(b) for b in bits]], device=model.device)), -1)[0]
        answer = "odd" if int(p.argmax()) else "even"
        print(f"{answer}\t{float(p.max()):.3f}\t{bits}")
        out.append(answer)
    return out
