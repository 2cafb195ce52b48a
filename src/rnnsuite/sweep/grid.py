"""The grid sweep (`rnn-train -m cell=rnn,lstm,gru seed=1,2,3`): Hydra's basic sweeper loop, except that a
failing job is recorded and the next one runs. The failures are listed at the end, and the exit code is 1."""
import sys
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobStatus
from omegaconf import OmegaConf


def describe(error):
    """'ValueError: unknown optimizer ...': the innermost cause (Hydra's instantiate wraps the telling error)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}"


def failure_line(ret):
    """'#3 optim.name=foo: ValueError: unknown optimizer' for a failed JobReturn."""
    # JobReturn.return_value re-raises a failed job's exception; _return_value reads it
    return f"#{ret.hydra_cfg.hydra.job.num} {' '.join(ret.overrides)}: {describe(ret._return_value)}"


def run_grid(basic, arguments):
    """`basic` is a set-up hydra BasicSweeper: its parsing, batching and launcher are reused as they are."""
    parser = OverridesParser.create(config_loader=basic.hydra_context.config_loader)
    basic.overrides = basic.split_arguments(parser.parse_overrides(basic._parse_config() + list(arguments)),
                                            basic.max_batch_size)
    sweep_dir = Path(basic.config.hydra.sweep.dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(basic.config, sweep_dir / "multirun.yaml")
    returns, failed, first = [], [], 0
    while not basic.is_done():
        batch = basic.get_job_batch()
        basic.validate_batch_is_legal(batch)
        results = basic.launcher.launch(batch, initial_job_idx=first)
        failed += [r for r in results if r.status == JobStatus.FAILED]
        first += len(batch)
        returns.append(results)
    if failed:
        print(f"error: {len(failed)} of {first} jobs failed:", file=sys.stderr)
        for r in failed:
            print(f"  {failure_line(r)}", file=sys.stderr)
        sys.exit(1)
    return returns
