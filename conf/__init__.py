"""The Hydra config tree, installed as the package `rnnsuite.conf` (found as `pkg://rnnsuite.conf`)."""
