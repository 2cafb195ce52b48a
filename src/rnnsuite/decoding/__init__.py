"""Greedy decoding and temperature / top-k sampling (beam search joins with the translation task)."""
from .search import greedy_decode, sample_next, strip_after_eos

__all__ = ["greedy_decode", "sample_next", "strip_after_eos"]
from .beam import beam_search, length_penalty, reorder_state  # noqa: E402

__all__ += ["beam_search", "length_penalty", "reorder_state"]
