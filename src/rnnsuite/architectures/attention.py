"""Attention over an encoder's memory: additive (Bahdanau et al. 2015) and dot / general (Luong et al. 2015).

One module, three scoring functions, shared by every task that attends (translation over source tokens,
captioning over image regions):

    score(q, m_s) = v^T tanh(W_q q + W_m m_s)      additive ("bahdanau")
    score(q, m_s) = q^T m_s                        dot (query and memory of the same size)
    score(q, m_s) = q^T W m_s                      general

    weights = softmax over the real (unmasked) source positions; context = sum_s weights_s m_s

The memory-side projection does not depend on the query, so `keys(memory)` computes it once per source
and a decoder passes it back at every step instead of recomputing it.
"""
import torch
from torch import nn

KINDS = ("additive", "dot", "general")
ALIASES = {"bahdanau": "additive", "luong": "general", "concat": "additive"}


class Attention(nn.Module):
    """`(query [B, Q] or [B, T, Q], memory [B, S, M], mask [B, S] bool) -> (context, weights)`.

    With a [B, Q] query: context [B, M], weights [B, S]. With [B, T, Q] (a whole teacher-forced target at
    once): context [B, T, M], weights [B, T, S]. `mask` is True on real source positions.
    """

    def __init__(self, kind, query_size, memory_size, attn_size=None):
        super().__init__()
        kind = ALIASES.get(kind, kind)
        if kind not in KINDS:
            raise ValueError(f"unknown attention {kind!r}; choose one of {KINDS} (or bahdanau / luong)")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(f"dot attention needs query size == memory size, got {query_size} and "
                             f"{memory_size}; use attention=general")
        self.kind, self.query_size, self.memory_size = kind, query_size, memory_size
        if kind == "additive":
            attn_size = attn_size or query_size
            self.w_query = nn.Linear(query_size, attn_size, bias=False)
            self.w_memory = nn.Linear(memory_size, attn_size)
            self.v = nn.Linear(attn_size, 1, bias=False)
        elif kind == "general":
            self.w = nn.Linear(memory_size, query_size, bias=False)

    def keys(self, memory):
        """The query-independent part of the score, computed once per source: [B, S, A or Q or M]."""
        if self.kind == "additive":
            return self.w_memory(memory)
        if self.kind == "general":
            return self.w(memory)
        return memory

    def forward(self, query, memory, mask=None, keys=None):
        single = query.dim() == 2
        q = query[:, None] if single else query                          # [B, T, Q]
        k = self.keys(memory) if keys is None else keys                  # [B, S, *]
        if self.kind == "additive":
            scores = self.v(torch.tanh(self.w_query(q)[:, :, None] + k[:, None])).squeeze(-1)
        else:
            scores = q @ k.transpose(1, 2)                               # [B, T, S]
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None].bool(), float("-inf"))
        weights = torch.softmax(scores, -1)
        context = weights @ memory                                       # [B, T, M]
        return (context[:, 0], weights[:, 0]) if single else (context, weights)

    def extra_repr(self):
        return f"kind={self.kind}, query={self.query_size}, memory={self.memory_size}"


def build_attention(kind, query_size, memory_size, attn_size=None):
    """An `Attention`, or None when kind is None / "none" (a plain encoder-decoder)."""
    if kind in (None, "none", False):
        return None
    return Attention(kind, query_size, memory_size, attn_size)
