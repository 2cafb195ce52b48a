"""What the Hydra mains share: config location, clear one-line errors, loggers, checkpoints, results."""
import functools
import json
import os
import re
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf

from ..data.fetch import DataError
from ..inputs import UserError, existing_file
from ..registry import config_packages, get_task, load_object
from ..training.base import CHECKPOINT_FORMAT

# The config tree ships inside the package (conf/ in the repository): found the same way from a checkout, an
# editable install or a wheel. Tasks of other distributions add their own config packages to the search path.
CONF = "pkg://rnnsuite.conf"
CONF_MODULE = "rnnsuite.conf"


def conf_root():
    """The config tree as a `Traversable` (a plain folder in a checkout or an unzipped install)."""
    from importlib.resources import files
    return files(CONF_MODULE)


def conf_options(group):
    """The options of a config group of the suite's own tree, e.g. conf_options("task")."""
    return sorted(p.name[:-5] for p in (conf_root() / group).iterdir() if p.name.endswith(".yaml"))

EXPECTED = (UserError, DataError, FileNotFoundError, ValueError)


def friendly(fn):
    """Turn the errors a user can fix into `error: …` on stderr and exit code 2, never a deep traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EXPECTED as e:
            if os.environ.get("RNNSUITE_TRACEBACK"):
                raise
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)
    return wrapper


def setup_env(cfg):
    """Process-wide settings from the config: data folder, W&B mode, float precision, threads."""
    os.environ["RNNSUITE_DATA_DIR"] = str(Path(cfg.paths.data_dir).resolve())
    if "WANDB_MODE" not in os.environ and not os.environ.get("WANDB_API_KEY"):
        os.environ["WANDB_MODE"] = "offline"  # no server here: write runs locally, `wandb sync` later
    torch.set_float32_matmul_precision("high")


def plain(node):
    return OmegaConf.to_container(node, resolve=True) if node is not None else None


def build_loggers(cfg):
    from hydra.utils import instantiate
    loggers = []
    for _, lcfg in (cfg.get("logger") or {}).items():
        if lcfg is None:
            continue
        loggers.append(instantiate(lcfg))
    return loggers


def build_callbacks(cfg, has_logger):
    from hydra.utils import instantiate
    out = []
    for name, ccfg in (cfg.get("callbacks") or {}).items():
        if ccfg is None or (name == "lr_monitor" and not has_logger) \
                or (name == "rich_progress_bar" and not cfg.trainer.get("enable_progress_bar", True)):
            continue
        out.append(instantiate(ccfg))
    return out


def load_checkpoint(path, task, map_location="cpu"):
    """Load a task model from a checkpoint (weights_only), refusing one from another task."""
    if not path:
        raise UserError(f"no checkpoint given: pass ckpt=PATH (a .ckpt written by `rnn-train task={task}`)")
    p = existing_file(path, "checkpoint")
    try:
        raw = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated or foreign file: say so in one line
        raise UserError(f"cannot read checkpoint {path}: {type(e).__name__}: {str(e).splitlines()[0][:200]}") from None
    info = raw.get("rnnsuite") if isinstance(raw, dict) else None
    if not info:
        raise UserError(f"{path} is not an rnnsuite checkpoint")
    if info.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path} was written by an older rnnsuite (checkpoint format {info.get('format', 1)}, "
                        f"this version reads {CHECKPOINT_FORMAT}); retrain it with `rnn-train task={info['task']}`")
    if info["task"] != task:
        raise UserError(f"checkpoint {path} is from task {info['task']!r}, not {task!r}; "
                        f"use task={info['task']} or a {task} checkpoint")
    get_task(task)  # a registered task
    try:
        cls = load_object(info["class"])
    except (ImportError, AttributeError):
        raise UserError(f"{path} was written by a model class this version does not have ({info['class']}); "
                        f"retrain it with `rnn-train task={task}`") from None
    model = cls.load_from_checkpoint(p, map_location=map_location, weights_only=True)
    model.eval()
    return model


def write_json(path, obj):
    path = Path(path)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(obj, indent=2, default=float))
    os.replace(tmp, path)


def test_metrics(out):
    """`trainer.test`'s {"test/bpc": ...} as {"bpc": float}."""
    return {k.split("/", 1)[1]: float(v) for k, v in out.items() if k.startswith("test/")}


def report(model, dm, run_dir, head, test, baselines, num_examples, images=None):
    """After a test: the task's extra results and plots, predictions.txt and results.json in the run folder,
    then the metrics table and a few predictions on the terminal. Returns what results.json holds."""
    extra = model.extra_results(dm, run_dir)
    images = {**extra.pop("images", {}), **(images or {})}
    examples = model.examples(dm, n=num_examples)
    (run_dir / "predictions.txt").write_text("\n".join(examples) + "\n")
    results = {**head, "test": test, "baselines": baselines, "splits": dm.split_summary(), **extra,
               "images": {k: str(v) for k, v in images.items()}}
    write_json(run_dir / "results.json", results)
    print_results(head["task"], test, baselines, examples)
    print(f"run folder: {run_dir}")
    return results


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


def log_images(loggers, images):
    """Send PNGs to W&B (the CSV logger has no images; they stay in the run folder)."""
    from pytorch_lightning.loggers import WandbLogger
    for lg in loggers:
        if isinstance(lg, WandbLogger) and images:
            for key, path in images.items():
                lg.log_image(key=key, images=[str(path)])


# Renamed in 0.2.0 so that one idea has one name across tasks. The old names still work on the command line,
# with a warning, until the next release.
DEPRECATED = {
    "data.split_seed": ["data.seed"],
    "data.fixture_docs": ["data.fixture_size"],
    "data.fixture_days": ["data.fixture_size"],
    "model.enc_layers": ["model.num_layers"],
    "model.dec_layers": ["model.num_layers"],
    "model.length_alpha": ["model.length_penalty"],
    "model.teacher_forcing": ["model.teacher_forcing_start", "model.teacher_forcing_end"],
    "beam": ["beam_size"],
}


def rename_deprecated(args):
    """Command-line overrides with deprecated keys rewritten to the current names (a warning each)."""
    out = []
    for arg in args:
        m = re.fullmatch(r"([+~]*)([\w.]+)(=.*)?", arg, flags=re.S)
        if not m or m.group(2) not in DEPRECATED:
            out.append(arg)
            continue
        prefix, old, value = m.group(1), m.group(2), m.group(3) or ""
        new = DEPRECATED[old]
        print(f"warning: {old} is deprecated and goes in the next release; use {' and '.join(new)}",
              file=sys.stderr)
        out += [f"{prefix}{key}{value}" for key in new]
    return out


def cli_main(hydra_main):
    """What every Hydra console script does first: the config's resolvers, the deprecated names."""
    register_resolvers()
    sys.argv[1:] = rename_deprecated(sys.argv[1:])
    hydra_main()


def register_resolvers():
    """The config's own interpolations; the console scripts (and tests that compose) call this first."""
    # Optuna's sweeper wants "maximize"/"minimize"; the monitor says "max"/"min".
    if not OmegaConf.has_resolver("sweep_direction"):
        OmegaConf.register_new_resolver("sweep_direction", lambda mode: "maximize" if mode == "max" else "minimize")
    # hydra.searchpath of train/eval/predict.yaml: the config packages of tasks other distributions register
    if not OmegaConf.has_resolver("rnnsuite_task_configs"):
        OmegaConf.register_new_resolver("rnnsuite_task_configs",
                                        lambda: [f"pkg://{pkg}" for pkg in config_packages()])
