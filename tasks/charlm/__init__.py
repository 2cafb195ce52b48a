"""Character-level language model: synced sequence -> sequence, truncated BPTT, sampling."""
