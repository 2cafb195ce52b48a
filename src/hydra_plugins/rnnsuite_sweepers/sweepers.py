"""Two Hydra sweepers, registered as `hydra/sweeper=rnnsuite_grid` (the default of rnn-train) and
`hydra/sweeper=rnnsuite_optuna` (`sweep=optuna`). The work is done in `rnnsuite.sweep`; this module stays
light because Hydra imports it on every start."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper


def _tpe():
    return {"_target_": "optuna.samplers.TPESampler", "seed": None, "constant_liar": True}


@dataclass
class OptunaSweeperConf:
    """The parameter names of hydra-optuna-sweeper, plus `pruner` and `enqueue`."""
    _target_: str = "hydra_plugins.rnnsuite_sweepers.sweepers.OptunaSweeper"
    _recursive_: bool = False          # sampler / pruner stay configs: the sweeper instantiates them
    storage: Optional[str] = None      # any SQLAlchemy URL; null: sqlite:///<hydra.sweep.dir>/optuna.db
    study_name: Optional[str] = None   # null: the name of the sweep folder
    n_trials: int = 20                 # in total, over every run of the command and every worker
    n_jobs: int = 1                    # trials asked and launched together (in parallel with a parallel launcher)
    direction: Optional[str] = None    # maximize | minimize; null: from the config's monitor.mode
    sampler: Any = field(default_factory=_tpe)  # a name (tpe, random, cmaes, gp, qmc) or {_target_: ..., ...}
    pruner: Any = "median"             # median | percentile | hyperband | successive_halving | none, or {_target_: ...}
    params: Any = None                 # the search space in Hydra's override grammar
    enqueue: List[Dict[str, Any]] = field(default_factory=list)  # trials to run first, e.g. [{optim.lr: 0.002}]


@dataclass
class GridSweeperConf:
    _target_: str = "hydra_plugins.rnnsuite_sweepers.sweepers.GridSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None


ConfigStore.instance().store(group="hydra/sweeper", name="rnnsuite_optuna", node=OptunaSweeperConf,
                             provider="rnnsuite")
ConfigStore.instance().store(group="hydra/sweeper", name="rnnsuite_grid", node=GridSweeperConf, provider="rnnsuite")


class OptunaSweeper(Sweeper):
    def __init__(self, **settings):
        self.settings = settings

    def setup(self, *, hydra_context, task_function, config):
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(hydra_context=hydra_context,
                                                                task_function=task_function, config=config)

    def sweep(self, arguments):
        from rnnsuite.sweep.study import OptunaSweep
        return OptunaSweep(self.config, self.launcher, self.hydra_context.config_loader, **self.settings).run(arguments)


class GridSweeper(Sweeper):
    """Hydra's basic (cartesian) sweeper, except that a failing job does not end the sweep: every job runs,
    then the failures are listed and the exit code is non-zero."""

    def __init__(self, max_batch_size=None, params=None):
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        self.basic = BasicSweeper(max_batch_size=max_batch_size, params=params)

    def setup(self, *, hydra_context, task_function, config):
        self.basic.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments):
        from rnnsuite.sweep.grid import run_grid
        return run_grid(self.basic, arguments)
