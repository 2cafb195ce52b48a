"""What the console scripts share: Hydra's errors and the job's as one `error:` line, and the results table.
The work itself is the library's (rnnsuite.run, rnnsuite.config)."""
import functools
import os
import sys
from pathlib import Path

from ..config import hydra_error_line, one_line, register_resolvers, rename_deprecated, user_error


def friendly(fn):
    """The one place where errors a user can fix become `error: …` (one line, on stderr) and exit code 2, never
    a deep traceback. In a multirun the error is re-raised after its line, so that Hydra's sweeper records the
    job as failed and goes on to the next one. RNNSUITE_TRACEBACK=1 shows the traceback instead."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            cause = user_error(e)
            if cause is None or os.environ.get("RNNSUITE_TRACEBACK"):
                raise
            print(f"error: {one_line(cause)}", file=sys.stderr)
            if in_multirun():
                raise  # Hydra records the job as failed, and the sweep goes on to the next one
            sys.exit(2)
    return wrapper


def in_multirun():
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def cli_main(hydra_main):
    """What every Hydra console script does: register the config's resolvers, rewrite deprecated names, and turn
    Hydra's own errors (an unknown config key, a config option that does not exist, an override it cannot
    parse: all found before the job starts) into one `error:` line and exit code 2, like the job's own errors.
    HYDRA_FULL_ERROR=1 or RNNSUITE_TRACEBACK=1 keep Hydra's full report."""
    from hydra.errors import ConfigCompositionException, OverrideParseException
    register_resolvers()
    sys.argv[1:] = rename_deprecated(sys.argv[1:])
    if os.environ.get("HYDRA_FULL_ERROR") or os.environ.get("RNNSUITE_TRACEBACK"):
        return hydra_main()
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises its errors to us instead of printing them in many lines
    try:
        hydra_main()
    except (ConfigCompositionException, OverrideParseException) as e:
        print(f"error: {hydra_error_line(e)}", file=sys.stderr)
        sys.exit(2)
    finally:
        os.environ.pop("HYDRA_FULL_ERROR", None)


def show_results(results, run_dir):
    """After a test (rnn-train, rnn-eval): the metrics table next to the baselines, the sample predictions the
    run wrote to its folder, and where that folder is."""
    run_dir = Path(run_dir)
    text = (run_dir / "predictions.txt").read_text(encoding="utf-8").removesuffix("\n")
    print_results(results["task"], results["test"], results["baselines"], text.split("\n") if text else [])
    print(f"run folder: {run_dir}")


def print_results(task, test, baselines, examples=()):
    """A table of the model's test metrics next to every baseline's, then a few predictions."""
    from rich.console import Console
    from rich.table import Table
    console = Console()
    keys = [k for k, v in test.items() if isinstance(v, (int, float))]
    table = Table(title=f"{task}: test metrics")
    table.add_column("model")
    for k in keys:
        table.add_column(k, justify="right")
    table.add_row("this model", *[f"{test[k]:.4f}" for k in keys])
    for name, m in (baselines or {}).items():
        table.add_row(f"baseline: {name}", *[f"{m[k]:.4f}" if isinstance(m.get(k), (int, float)) else "-"
                                            for k in keys])
    console.print(table)
    if examples:
        console.print("[bold]sample predictions[/bold]")
        for line in examples:
            print(f"  {line}")
