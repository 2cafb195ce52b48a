"""Hydra configs of the parity task (found as pkg://rnnsuite_parity.conf)."""
