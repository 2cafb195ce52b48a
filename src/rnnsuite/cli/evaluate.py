"""`rnn-eval task=X ckpt=PATH`: test a checkpoint on its task's test split, with the data it was trained with.

The data config comes from the checkpoint (the run's own `data.*`); `data.KEY=VALUE` on the command line changes
that key only (for example a translation test set with longer sentences), and `data=NAME` replaces it. The
Trainer is the configured one (`trainer=...`, `trainer.precision=...`), with no logger or checkpoints. The run
folder (outputs/eval/<time>, or hydra.run.dir=...) gets results.json and the task's plots, as after training.
The work is rnnsuite.run.evaluate's.
"""
import hydra

from .. import run
from ..config import CONF
from .common import cli_main, friendly, show_results


@friendly
def evaluate(cfg, overrides=None):
    """`overrides`: the command line's (Hydra's `overrides.task`), which say which `data.*` keys to change."""
    results = run.evaluate(cfg, overrides)
    if results is None:  # another process than the first of a multi-process run
        return None
    show_results(results, cfg.paths.output_dir)
    return results["test"]


@hydra.main(version_base="1.3", config_path=CONF, config_name="eval")
def _main(cfg):
    from hydra.core.hydra_config import HydraConfig
    return evaluate(cfg, list(HydraConfig.get().overrides.task))


def main():
    cli_main(_main)
