"""Decoding loops shared by every generating task.

A decoder is a `step_fn(y_prev [B], state) -> (logits [B, V], state)`; the loops never look inside the state.
"""
import torch


@torch.no_grad()
def greedy_decode(step_fn, state, bos, eos, max_len, batch_size, device=None):
    """Argmax at every step until every sequence has emitted <eos> or max_len. Returns [B, <=max_len] ids
    (without <bos>; positions after <eos> hold <eos>)."""
    y = torch.full((batch_size,), bos, dtype=torch.long, device=device)
    done = torch.zeros(batch_size, dtype=torch.bool, device=device)
    out = []
    for _ in range(max_len):
        logits, state = step_fn(y, state)
        y = logits.argmax(-1).masked_fill(done, eos)
        out.append(y)
        done |= y == eos
        if bool(done.all()):
            break
    return torch.stack(out, 1) if out else torch.empty(batch_size, 0, dtype=torch.long, device=device)


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    """Sample one id per row from logits / temperature, keeping only the top_k when given."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logits = logits / temperature
    if top_k:
        kth = logits.topk(min(int(top_k), logits.size(-1)), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).squeeze(-1)


def strip_after_eos(ids, eos):
    """List of id lists, each cut at its first <eos>."""
    rows = []
    for row in ids.tolist():
        rows.append(row[: row.index(eos)] if eos in row else row)
    return rows
