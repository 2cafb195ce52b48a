"""`rnn-train task=X cell=Y ...`: fit, test the best checkpoint, write results.json and plots, print metrics
next to the baselines. `-m` sweeps (the project's grid or Optuna sweeper). `resume=<run>/checkpoints/last.ckpt`
continues a run that was stopped or killed, in the same data order. The work is rnnsuite.run.train's."""
import hydra

from .. import run
from ..config import CONF
from .common import cli_main, friendly, show_results


@friendly
def train(cfg):
    """Train, print the results; returns the monitored validation metric of the best checkpoint (what a sweep
    optimises)."""
    results = run.train(cfg)
    if results is None:  # another process than the first of a multi-process run: the first one reports
        return None
    show_results(results, cfg.paths.output_dir)
    return results["best_val"][cfg.monitor.metric]


@hydra.main(version_base="1.3", config_path=CONF, config_name="train")
def _main(cfg):
    return train(cfg)


def main():
    cli_main(_main)


if __name__ == "__main__":
    main()
