"""Synthetic probes: the adding problem (Hochreiter & Schmidhuber 1997)."""
