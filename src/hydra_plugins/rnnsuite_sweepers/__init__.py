"""rnnsuite's Hydra sweepers, found by Hydra's plugin scan of the `hydra_plugins` namespace package."""
