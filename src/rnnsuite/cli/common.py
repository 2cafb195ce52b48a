"""What the Hydra mains share: config location, clear one-line errors, loggers, checkpoints, results."""
import functools
import json
import os
import re
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf

from ..atomic import write_text
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


def one_line(e):
    """An exception as one line of text: its first non-empty line, or its type when it has no message."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0][:500] if lines else type(e).__name__


def user_error(e):
    """The error a user can fix behind `e` (also when Hydra's instantiate wraps it), or None for a bug."""
    from hydra.errors import InstantiationException
    while isinstance(e, InstantiationException) and e.__cause__ is not None:
        cause = e.__cause__
        if isinstance(cause, TypeError) and "argument" in str(cause):
            # a config key the class does not take (+model.foo=1) or a required one missing
            key = re.search(r"full_key: (\S+)", str(e))
            return UserError(f"{key.group(1) if key else 'config'}: {one_line(cause)}")
        e = cause
    return e if isinstance(e, EXPECTED) else None


def in_multirun():
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def hydra_error_line(e):
    """One line for an error Hydra raises before the job runs: an unknown config key, a config option that does
    not exist, an override it cannot parse."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    text = " ".join(lines)
    cause = one_line(e.__cause__) if e.__cause__ is not None else ""
    if key := re.search(r"Could not override '([^']+)'", text):
        if "not in struct" not in cause:
            return f"cannot set {key.group(1)}: {cause or lines[0]}"
        return (f"unknown config key {key.group(1)!r} (check its spelling; +{key.group(1)}=... adds a key, which "
                "the class it configures must then accept)")
    if missing := re.search(r"Could not find '([^']+)'", text):
        group = missing.group(1).rsplit("/", 1)[0]
        start = text.find(f"Available options in '{group}':")
        options = text[start:].split(":", 1)[1].split("Config search path")[0].split() if start >= 0 else []
        listed = f"; the {group} options are {', '.join(options)}" if options else ""
        return f"no config {missing.group(1)!r}{listed}"
    override = getattr(e, "override", None)
    head = lines[0] if lines else type(e).__name__
    if override:
        return f"cannot parse the override {override!r}: {head}"
    return f"{head} ({cause})" if cause else head


def setup_env(cfg):
    """Process-wide settings from the config: data folder, W&B mode, float precision, threads."""
    os.environ["RNNSUITE_DATA_DIR"] = str(Path(cfg.paths.data_dir).resolve())
    if "WANDB_MODE" not in os.environ and not os.environ.get("WANDB_API_KEY"):
        os.environ["WANDB_MODE"] = "offline"  # no server here: write runs locally, `wandb sync` later
    torch.set_float32_matmul_precision("high")
    hide_absent_gpus()
    if cfg.get("threads"):  # also in the environment: Lightning's DDP and any child process follow it
        os.environ["OMP_NUM_THREADS"] = str(int(cfg.threads))
        torch.set_num_threads(int(cfg.threads))


def hide_absent_gpus():
    """On a machine without a GPU, set CUDA_VISIBLE_DEVICES="" (if unset), so that CUDA checks answer at once.

    Lightning sets PYTORCH_NVML_BASED_CUDA_CHECK=1 on import; from then on every torch.cuda.is_available() asks
    NVML, and where there is no NVIDIA driver that means a failed dlopen each time, never cached. torch's Adam
    and AdamW ask on every step: about 0.2-0.3 ms a step (a twentieth of a small model's step on 2 cores).
    With no visible device torch answers 0 without looking. A machine with a GPU is left alone."""
    if "CUDA_VISIBLE_DEVICES" not in os.environ and torch.cuda.device_count() == 0:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""


def compose(config_name="train", overrides=()):
    """A composed config, as the console scripts see it, for scripts and tests that build runs in-process."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    register_resolvers()
    with initialize_config_module(CONF_MODULE, version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides))


def plain(node):
    return OmegaConf.to_container(node, resolve=True) if node is not None else None


def build_loggers(cfg, wandb_names=None):
    """The configured loggers. `wandb_names` (name, group, job_type) override the W&B run's; the W&B run
    starts here, so that a run that fails later still has its own."""
    from hydra.utils import instantiate
    from pytorch_lightning.loggers import WandbLogger
    loggers = []
    for _, lcfg in (cfg.get("logger") or {}).items():
        if lcfg is None:
            continue
        is_wandb = lcfg._target_.endswith("WandbLogger")
        logger = instantiate(lcfg, **(wandb_names or {})) if is_wandb else instantiate(lcfg)
        if isinstance(logger, WandbLogger):
            logger.experiment.config.update({"run_config": plain(cfg)}, allow_val_change=True)
        loggers.append(logger)
    return loggers


def finish_loggers(loggers, error=None):
    """End this run's W&B run (as failed, with the error, when there is one): in a multirun the next job must
    start its own run instead of logging into this one."""
    from pytorch_lightning.loggers import WandbLogger
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            if error is not None:
                logger.experiment.summary["error"] = f"{type(error).__name__}: {error}"[:1000]
            logger.experiment.finish(exit_code=1 if error is not None else 0)


def build_callbacks(cfg, has_logger):
    from hydra.utils import instantiate
    out = []
    for name, ccfg in (cfg.get("callbacks") or {}).items():
        if ccfg is None or (name == "lr_monitor" and not has_logger) \
                or (name == "rich_progress_bar" and not cfg.trainer.get("enable_progress_bar", True)) \
                or (name == "last_every_n_steps" and not ccfg.get("every_n_train_steps")):
            continue
        out.append(instantiate(ccfg))
    return out


def read_checkpoint(path, task):
    """A checkpoint file of `task` as its plain dict, loaded with `weights_only=True` (a pickle that would run code
    is refused unread). Every way it can be wrong is one `UserError` naming the file: missing, empty, truncated,
    not a checkpoint, not this suite's, of an older format, of another task, or naming a model class outside the
    task's own package (checked before anything is imported)."""
    import pickle
    if not path:
        raise UserError(f"no checkpoint given: pass ckpt=PATH (a .ckpt written by `rnn-train task={task}`)")
    p = existing_file(path, "checkpoint")
    if p.stat().st_size == 0:
        raise UserError(f"checkpoint {path} is an empty file (0 bytes)")
    try:
        raw = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" in str(e):  # a pickled object that is not plain data: it could run code
            raise UserError(f"checkpoint {path} holds Python objects other than weights and plain data; refused "
                            "unread (it could run code)") from None
        raise UserError(f"cannot read checkpoint {path} (truncated, or not a PyTorch checkpoint)") from None
    except Exception as e:  # a truncated or foreign file: say so in one line
        raise UserError(f"cannot read checkpoint {path} (truncated, or not a PyTorch checkpoint): "
                        f"{type(e).__name__}: {one_line(e)[:200]}") from None
    info = raw.get("rnnsuite") if isinstance(raw, dict) else None
    if not isinstance(info, dict) or "task" not in info:
        raise UserError(f"{path} is not an rnnsuite checkpoint (no task tag): use a .ckpt written by `rnn-train`")
    if info.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path} was written by an older rnnsuite (checkpoint format {info.get('format', 1)}, "
                        f"this version reads {CHECKPOINT_FORMAT}); retrain it with `rnn-train task={info['task']}`")
    if info["task"] != task:
        raise UserError(f"checkpoint {path} is from task {info['task']!r}, not {task!r}; "
                        f"use task={info['task']} or a {task} checkpoint")
    package = get_task(task).package
    cls = str(info.get("class", ""))
    if not package or not cls.startswith(package + "."):
        raise UserError(f"checkpoint {path} names the model class {cls!r}, which is not in the {task} task's package "
                        f"{package!r}; refused without importing it")
    return raw


def load_checkpoint(path, task, map_location="cpu"):
    """Load a task model from a checkpoint (`read_checkpoint`'s checks first, weights_only throughout)."""
    from ..training import TaskModule
    info = read_checkpoint(path, task)["rnnsuite"]
    try:
        cls = load_object(info["class"])
    except (ImportError, AttributeError):
        raise UserError(f"{path} was written by a model class this version does not have ({info['class']}); "
                        f"retrain it with `rnn-train task={task}`") from None
    if not (isinstance(cls, type) and issubclass(cls, TaskModule)):
        raise UserError(f"checkpoint {path} names {info['class']}, which is not a model class")
    model = cls.load_from_checkpoint(path, map_location=map_location, weights_only=True)
    model.eval()
    return model


def check_resume(saved, model, dims):
    """`resume=`: the checkpoint's model must have this run's settings (the optimiser's and the monitor's may
    change). `saved` is the checkpoint read by `read_checkpoint`; `dims` what the model learnt from the data."""
    hparams = saved.get("hyper_parameters") or {}
    for key, value in model.hparams.items():
        if key in ("optim", "monitor") or key not in hparams or hparams[key] == value:
            continue
        name = f"the data's {key}" if key in dims else (key if key == "cell" else f"model.{key}")
        raise UserError(f"the resume checkpoint was trained with {name}={hparams[key]!r}, this run has {value!r}: "
                        "resume with the settings it was trained with")


# Options checked before anything is built, wherever they appear under model. or data.: sizes and counts must be
# whole numbers >= 1, dropout rates and split fractions must lie in [0, 1).
POSITIVE = re.compile(r"(.*_size|.*_dim|num_layers|.*_len|lookback|horizon|k[12]|n_(train|val|test|refs)|season|"
                      r"head_hidden|.*_stride|max_.*|windows_per_epoch|fixture_size)")
FRACTION = re.compile(r"(.*dropout.*|.*_frac)")


def check_options(cfg, sections=("model", "data")):
    """A `UserError` naming the first option of `sections` outside its range."""
    for section in sections:
        node = cfg.get(section) or {}
        for key, value in node.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            name = f"{section}.{key}"
            if POSITIVE.fullmatch(key) and (value < 1 or value != int(value)):
                raise UserError(f"{name} must be a whole number >= 1, got {value}")
            if FRACTION.fullmatch(key) and not 0 <= value < 1:
                raise UserError(f"{name} must be in [0, 1), got {value}")


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, default=float))


def test_metrics(out):
    """`trainer.test`'s {"test/bpc": ...} as {"bpc": float}."""
    return {k.split("/", 1)[1]: float(v) for k, v in out.items() if k.startswith("test/")}


def report(model, dm, run_dir, head, test, baselines, num_examples, images=None):
    """After a test: the task's extra results and plots, predictions.txt and results.json in the run folder,
    then the metrics table and a few predictions on the terminal. Returns what results.json holds."""
    extra = model.extra_results(dm, run_dir)
    images = {**extra.pop("images", {}), **(images or {})}
    examples = model.examples(dm, n=num_examples)
    write_text(run_dir / "predictions.txt", "\n".join(examples) + "\n")
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


def register_resolvers():
    """The config's own interpolations and the project's Hydra sweepers; the console scripts (and tests that
    compose) call this first."""
    from hydra_plugins.rnnsuite_sweepers import register
    register()
    # hydra.searchpath of train/eval/predict.yaml: the config packages of tasks other distributions register
    if not OmegaConf.has_resolver("rnnsuite_task_configs"):
        OmegaConf.register_new_resolver("rnnsuite_task_configs",
                                        lambda: [f"pkg://{pkg}" for pkg in config_packages()])

