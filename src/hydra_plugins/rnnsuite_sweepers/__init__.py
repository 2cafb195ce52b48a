"""rnnsuite's Hydra sweepers, found by Hydra's plugin scan of the `hydra_plugins` namespace package."""


def register():
    """Register the sweepers (and their configs) by name. Hydra finds plugins by walking the `hydra_plugins`
    namespace package, which an editable install's import hook does not list; rnnsuite's console scripts call
    this, and so can another Hydra app that uses the sweepers."""
    from hydra.core.plugins import Plugins

    from .sweepers import GridSweeper, OptunaSweeper
    for sweeper in (GridSweeper, OptunaSweeper):
        Plugins.instance().register(sweeper)
