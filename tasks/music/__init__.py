"""Polyphonic music: Bach chorales as piano rolls, synced sequence -> sequence with multi-label outputs."""
