"""Batched beam search over any `step_fn(y_prev [N], state) -> (logits [N, V], state)`.

Every source sentence keeps `beam_size` live hypotheses and, separately, its `beam_size` best finished ones
(the tensor2tensor scheme): at each step the top 2K extensions of all live beams are scored; those among the
top K that end in <eos> compete for the finished set by length-normalised score, the best K that do not end
in <eos> fill the live slots. At least K of the top 2K do not end in <eos> (each beam has one <eos>
extension), so the live set never runs dry.

Length penalty (Wu et al. 2016, GNMT): a finished hypothesis of n tokens (its <eos> included) scores
log p / ((5 + n) / 6) ** alpha. alpha = 0 ranks by plain log-probability; alpha > 0 favours longer outputs.

The decoder state is reordered by beam index with `reorder_state` (see there for the convention), or with
a caller's own `reorder(state, index)`.
"""
import torch
import torch.nn.functional as F


def _select(x, index, dim):
    if x is None:
        return None
    if isinstance(x, (tuple, list)):
        return type(x)(_select(v, index, dim) for v in x)
    if isinstance(x, dict):
        return {k: _select(v, index, dim) for k, v in x.items()}
    if torch.is_tensor(x) and x.dim() > dim:
        return x.index_select(dim, index)
    return x


def reorder_state(state, index):
    """Pick rows `index` [N'] of a decoder state.

    Convention: a dict's "rnn" entry is an RNN state (h, or (h, c)) with batch at dim 1, as torch keeps it;
    every other tensor in the dict has batch at dim 0 (memory [B, S, M], mask [B, S], keys, attention).
    A bare tensor or tuple is an RNN state (batch at dim 1). None passes through."""
    if isinstance(state, dict):
        return {k: _select(v, index, 1 if k == "rnn" else 0) for k, v in state.items()}
    return _select(state, index, 1)


def length_penalty(length, alpha):
    """GNMT's ((5 + n) / 6) ** alpha; a float or a tensor of lengths."""
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def beam_search(step_fn, state, bos, eos, max_len, batch_size, beam_size=5, alpha=0.0, device=None,
                reorder=reorder_state, return_scores=False):
    """Best hypothesis per input: [B, <=max_len] ids without <bos> (positions after <eos> hold <eos>), like
    `greedy_decode`; with `return_scores`, also its length-normalised log-probability [B].

    `state` is for B inputs; it is expanded to B * beam_size rows here. A hypothesis that reaches max_len
    without <eos> competes as it is. beam_size=1 with alpha=0 gives exactly greedy decoding."""
    B, K = batch_size, int(beam_size)
    if K < 1:
        raise ValueError(f"beam size must be >= 1, got {beam_size}")
    state = reorder(state, torch.arange(B, device=device).repeat_interleave(K))
    neg_inf = float("-inf")
    # Only beam 0 is live at the start, so the first step does not pick K copies of the same token.
    alive_lp = torch.full((B, K), neg_inf, device=device)
    alive_lp[:, 0] = 0.0
    alive_seq = torch.empty(B, K, 0, dtype=torch.long, device=device)
    fin_score = torch.full((B, K), neg_inf, device=device)
    fin_seq = torch.empty(B, K, 0, dtype=torch.long, device=device)
    y = torch.full((B * K,), bos, dtype=torch.long, device=device)
    rows = torch.arange(B, device=device)[:, None]
    for t in range(max_len):
        logits, state = step_fn(y, state)
        logp = F.log_softmax(logits.float(), -1)
        V = logp.size(-1)
        cand = (alive_lp[..., None] + logp.view(B, K, V)).view(B, K * V)
        top_lp, top_idx = cand.topk(min(2 * K, K * V), -1)                     # [B, 2K]
        beam, tok = top_idx // V, top_idx % V
        seqs = torch.cat([alive_seq[rows, beam], tok[..., None]], -1)           # [B, 2K, t+1]
        # As fairseq does, only an <eos> among the top K may finish: with K = 1 that is exactly greedy.
        is_eos = tok == eos
        may_finish = is_eos & (torch.arange(top_lp.size(1), device=device) < K)
        # finished: old finished (padded with <eos>) and the new <eos> candidates, by normalised score
        new_fin = torch.where(may_finish, top_lp / length_penalty(t + 1.0, alpha), torch.full_like(top_lp, neg_inf))
        pad = torch.full((B, K, 1), eos, dtype=torch.long, device=device)
        all_score = torch.cat([fin_score, new_fin], 1)
        all_seq = torch.cat([torch.cat([fin_seq, pad], -1), seqs], 1)
        fin_score, keep = all_score.topk(K, -1)
        fin_seq = all_seq[rows, keep]
        # live: the best K candidates that did not end in <eos>
        live_lp = top_lp.masked_fill(is_eos, neg_inf)
        alive_lp, keep = live_lp.topk(K, -1)
        alive_seq = seqs[rows, keep]
        parent = (beam.gather(1, keep) + rows * K).view(-1)
        state = reorder(state, parent)
        y = alive_seq[:, :, -1].reshape(-1)
        # Done when no live hypothesis can still beat the best finished one: log p only falls as it
        # grows, and with alpha >= 0 its normaliser is at most length_penalty(max_len).
        bound = alive_lp[:, 0] / length_penalty(float(max_len) if alpha >= 0 else t + 2.0, alpha)
        if bool((fin_score[:, 0] >= bound).all()):
            break
    # Hypotheses still live at the end compete with the finished ones as they are.
    n = alive_seq.size(-1)
    live_norm = alive_lp / length_penalty(float(n), alpha)
    all_score = torch.cat([fin_score, live_norm], 1)
    all_seq = torch.cat([fin_seq, alive_seq], 1)
    best_score, best = all_score.max(-1)
    out = all_seq[torch.arange(B, device=device), best]
    # trim trailing columns that are <eos> in every row, keeping each row's first <eos>
    first_eos = torch.where(out == eos, torch.arange(out.size(1), device=device), out.size(1)).min(-1).values
    width = int((first_eos + 1).clamp(max=out.size(1)).max()) if out.numel() else 0
    out = out[:, :width]
    return (out, best_score) if return_scores else out
