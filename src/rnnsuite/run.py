"""Running a composed config: what `rnn-train`, `rnn-eval` and `rnn-predict` do, and what the Python API
(rnnsuite.api) calls. Each function here takes a config as `rnnsuite.config.compose` (or Hydra's main) gives it,
works in this process, writes the run folder and returns its results; printing is the caller's.

- `train(cfg)`: build the DataModule and the model, loggers, callbacks, precision and Trainer; fit; test the best
  checkpoint; write results.json, predictions.txt and the plots.
- `evaluate(cfg, overrides)`: test a checkpoint on the data it was trained with.
- `predict(cfg)`: answer as the task's `predict` function does (`rnn-predict`).
"""
import csv
import json
import logging
import os
import re
import time
import warnings
from pathlib import Path

import pytorch_lightning as pl  # on import, before Hydra's job logging is set up: Lightning then keeps its own
import torch                    # stderr handler for its lines (the console scripts' stdout holds the results)
from lightning_fabric.loggers.logger import rank_zero_experiment
from omegaconf import OmegaConf, open_dict
from pytorch_lightning.loggers.csv_logs import ExperimentWriter

from .atomic import write_text
from .checkpoints import check_resume, load_checkpoint, read_checkpoint
from .config import check_options, plain
from .inputs import UserError
from .registry import get_task, load_object


# ---------------------------------------------------------------------------------------------- the process
def setup_env(cfg):
    """Process-wide settings from the config: data folder, W&B mode, float precision, threads."""
    os.environ["RNNSUITE_DATA_DIR"] = str(Path(cfg.paths.data_dir).resolve())
    if "WANDB_MODE" not in os.environ and not os.environ.get("WANDB_API_KEY"):
        os.environ["WANDB_MODE"] = "offline"  # no server here: write runs locally, `wandb sync` later
    setup_torch()
    if cfg.get("threads"):  # also in the environment: Lightning's DDP and any child process follow it
        os.environ["OMP_NUM_THREADS"] = str(int(cfg.threads))
        torch.set_num_threads(int(cfg.threads))


def setup_torch():
    """What a process sets before torch works (also for `rnnsuite.load`, which has no config): the float32
    matmul precision, no search for a GPU where there is none, and no dependency noise on the console."""
    torch.set_float32_matmul_precision("high")
    hide_absent_gpus()
    quiet_dependencies()


def hide_absent_gpus():
    """On a machine without a GPU, set CUDA_VISIBLE_DEVICES="" (if unset), so that CUDA checks answer at once.

    Lightning sets PYTORCH_NVML_BASED_CUDA_CHECK=1 on import; from then on every torch.cuda.is_available() asks
    NVML, and where there is no NVIDIA driver that means a failed dlopen each time, never cached. torch's Adam
    and AdamW ask on every step: about 0.2-0.3 ms a step (a twentieth of a small model's step on 2 cores).
    With no visible device torch answers 0 without looking. A machine with a GPU is left alone."""
    if "CUDA_VISIBLE_DEVICES" not in os.environ and torch.cuda.device_count() == 0:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""


# Lightning's lines that tell the user nothing they can act on: an advertisement, and "`Trainer(limit_..=1.0)`
# was configured so 100% of the batches will be used" for the defaults the config spells out. Its other lines
# (the devices it uses, the checkpoint it tests, its warnings) are kept.
LIGHTNING_NOISE = re.compile(r"💡 Tip: .*litlogger|`Trainer\(\w+=1\.0\)` was configured so ", re.S)


# Lightning's info lines go to one of these, the one its package imported last named (lightning_utilities'
# rank_zero_module.log): pytorch_lightning's, or lightning.pytorch's once a sweep's Optuna callback imports that.
RANK_ZERO_LOGGERS = [f"{package}.utilities.rank_zero" for package in
                     ("pytorch_lightning", "lightning_fabric", "lightning.pytorch", "lightning.fabric")]


class _DropNoise(logging.Filter):
    def filter(self, record):
        return not LIGHTNING_NOISE.match(record.getMessage())


def quiet_dependencies():
    """Silence what a dependency prints that the user cannot act on, by its exact message (never a whole
    category or stream): Lightning's tip and its `=1.0` lines, and a FutureWarning torch raises inside Lightning
    (`isinstance(treespec, LeafSpec)`, from its own pytree helper). Safe to call again."""
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
                            category=FutureWarning, module=r"(pytorch_lightning|lightning\.pytorch)\.")
    for name in RANK_ZERO_LOGGERS:
        log = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in log.filters):
            log.addFilter(_DropNoise())


def console_command(name):
    """The command that runs console script `name` (e.g. "rnn-train") with this interpreter, for a run in a
    process of its own: found through the installed entry points, wherever the script file went."""
    import sys
    from importlib.metadata import entry_points
    ep = entry_points(group="console_scripts")[name]
    return [sys.executable, "-c", f"import sys; from {ep.module} import {ep.attr}; sys.exit({ep.attr}())"]


# ---------------------------------------------------------------------------------------------- rnn-train
def build(cfg):
    """DataModule and model from a composed config; the model learns its sizes from the DataModule."""
    from hydra.utils import instantiate
    dm = instantiate(cfg.data, _convert_="all")
    dm.prepare_data()
    dm.setup("fit")
    model = instantiate(cfg.model, _convert_="all", cell=plain(cfg.cell), optim=plain(cfg.optim),
                        monitor=plain(cfg.monitor), **dm.model_dims())
    model.set_data_state(dm.state())
    model.data_config = plain(cfg.data)  # rnn-eval rebuilds the test split from it
    return dm, model


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
            # Lightning passes wandb.init anonymous=None, which W&B warns is deprecated on every run: unset is
            # what we mean (the setting has no effect)
            logger._wandb_init.pop("anonymous", None)
            logger.experiment.config.update({"run_config": plain(cfg)}, allow_val_change=True)
        loggers.append(logger)
    return loggers


class CSVLogger(pl.loggers.CSVLogger):
    """Lightning's CSV logger (csv/metrics.csv), made to survive a cut-off run: it writes its rows out whenever a
    checkpoint is saved (Lightning's only every 100 steps, so a killed run lost them), and a run resumed from a
    checkpoint reads on in its metrics.csv, which `keep_rows_until` has cut back to the checkpoint's step
    (Lightning's deletes the file it finds, and with it the curve up to the checkpoint)."""

    @property
    @rank_zero_experiment
    def experiment(self):
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ReadOnWriter(log_dir=self.log_dir)
        return self._experiment

    def after_save_checkpoint(self, checkpoint_callback):
        self.save()

    def keep_rows_until(self, step):
        """Before training: drop metrics.csv (step None: a new run), or keep its rows logged before `step` (a
        run resumed from a checkpoint of that global step; the rows after it will be logged again)."""
        path = Path(self.log_dir) / ExperimentWriter.NAME_METRICS_FILE
        if not path.is_file():
            return
        if step is None:
            path.unlink()
            return
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header, rows = reader.fieldnames, [r for r in reader if int(r["step"]) < step]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)


class _ReadOnWriter(ExperimentWriter):
    """Appends to the metrics.csv it finds (with that file's columns) instead of deleting it."""

    def _check_log_dir_exists(self):
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as f:
                self.metrics_keys = list(csv.DictReader(f).fieldnames or [])


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


def train(cfg):
    """Fit, test the best checkpoint and write the run folder (`cfg.paths.output_dir`); returns what
    results.json holds (None in the other processes of a multi-process run)."""
    from .sweep.trial import current_trial, wandb_names
    from .training.precision import resolve_trainer_precision
    setup_env(cfg)
    check_options(cfg)
    resume = read_checkpoint(cfg.resume, cfg.task.name) if cfg.get("resume") else None
    precision = resolve_trainer_precision(cfg)  # auto -> what this hardware runs natively; bf16 where it can't: error
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    trial = current_trial()  # an Optuna trial when an Optuna sweep runs this job, else None
    if trial is not None:
        trial.set_user_attr("run_dir", str(run_dir))
    # Loggers first, so that a run that fails while building still has its W&B run, finished as failed.
    loggers = build_loggers(cfg, wandb_names(trial) if trial is not None else None)
    for logger in loggers:
        if isinstance(logger, CSVLogger):
            logger.keep_rows_until(resume["global_step"] if resume is not None else None)
    try:
        result = fit_and_test(cfg, run_dir, loggers, trial, precision, resume)
    except BaseException as e:
        finish_loggers(loggers, error=e)
        raise
    finish_loggers(loggers)
    return result


def training_timer(trainer):
    """The Trainer's Timer (max_time has one), else a new one: it times the training loop (epochs and their
    validation) apart from set-up, test and reporting."""
    from pytorch_lightning.callbacks import Timer
    timer = next((cb for cb in trainer.callbacks if isinstance(cb, Timer)), None)
    if timer is None:
        timer = Timer()
        trainer.callbacks.append(timer)
    return timer


def fit_and_test(cfg, run_dir, loggers, trial, precision, resume):
    from hydra.utils import instantiate

    from .plots import learning_curves
    from .sweep.trial import trial_callbacks
    pl.seed_everything(cfg.seed, workers=True)
    started = time.time()
    dm, model = build(cfg)
    if resume is not None:
        check_resume(resume, model, dm.model_dims())
        del resume
    built = time.time()
    callbacks = build_callbacks(cfg, bool(loggers))
    if trial is not None:
        callbacks += trial_callbacks(trial, cfg.monitor.metric)
    trainer = instantiate(cfg.trainer, logger=loggers or False, callbacks=callbacks)
    timer = training_timer(trainer)
    timing = {"build_data_model": built - started, "build_trainer": time.time() - built}
    try:
        trainer.fit(model, datamodule=dm, ckpt_path=cfg.get("resume"), weights_only=True)
    finally:
        timing["train_loop"] = timer.time_elapsed("train")
        timing["fit"] = time.time() - started - timing["build_data_model"] - timing["build_trainer"]
        timing["epochs"] = trainer.current_epoch
        if trial is not None and trainer.global_rank == 0:
            trial.set_user_attr("timing", {k: round(v, 3) for k, v in timing.items()})
    ckpt_cb = trainer.checkpoint_callback
    best = ckpt_cb.best_model_path if ckpt_cb is not None and ckpt_cb.best_model_path else None
    # What a sweep optimises: the monitored validation metric of the best checkpoint.
    best_val = float(ckpt_cb.best_model_score) if ckpt_cb is not None and ckpt_cb.best_model_score is not None \
        else None
    test = test_metrics(trainer.test(model, datamodule=dm, ckpt_path=best or None, verbose=False,
                                     weights_only=True)[0])
    by_rank = [test]
    if trainer.world_size > 1:  # each process's (synced) test metrics, to show that they agree
        import torch.distributed as dist
        by_rank = [None] * trainer.world_size
        dist.all_gather_object(by_rank, test)
    if trainer.global_rank != 0:
        return None
    baselines = dm.baselines() if cfg.get("baselines", True) else {}
    curves = learning_curves(run_dir / "csv" / "metrics.csv", run_dir / "learning_curves.png", cfg.monitor.metric)
    timing["total"] = time.time() - started
    head = {"task": cfg.task.name, "cell": cfg.cell.type, "seed": cfg.seed, "precision": precision,
            "best_checkpoint": best, "parameters": sum(p.numel() for p in model.parameters()),
            "best_val": {cfg.monitor.metric: best_val},
            "run_dir": str(run_dir), "minutes": round((time.time() - started) / 60, 2),
            "processes": trainer.world_size, "threads": torch.get_num_threads(),
            "timing": {k: round(v, 3) for k, v in timing.items()}}
    if trainer.world_size > 1:
        head["test_by_process"] = by_rank  # each process's synced test metrics: under DDP they must agree
    results = report(model, dm, run_dir, head, test, baselines, cfg.get("num_examples", 5),
                     images={"learning_curves": curves} if curves else None)
    log_images(loggers, results["images"])
    if trial is not None:
        trial.set_user_attr("timing", head["timing"])
        trial.set_user_attr("test", test)
    return results


# ---------------------------------------------------------------------------------------------- rnn-eval
def data_config(cfg, model, overrides):
    """The data config to test with: the checkpoint's, with the command line's `data.*` keys on top (all of the
    composed one after `data=NAME`, or for a checkpoint that does not carry its data config)."""
    keys = {o.lstrip("+~").split("=", 1)[0] for o in overrides or ()}
    if model.data_config is None or "data" in keys:
        return cfg.data
    merged = OmegaConf.create(model.data_config)
    for key in sorted(k for k in keys if k.startswith("data.")):
        OmegaConf.update(merged, key[len("data."):], OmegaConf.select(cfg, key), force_add=True)
    return merged


def evaluate(cfg, overrides=None):
    """Test `cfg.ckpt` on its task's test split, with the data it was trained with; write the run folder's
    results.json and plots as after training. `overrides`: the command line's, which say which `data.*` keys
    to change. Returns what results.json holds (None in the other processes of a multi-process run)."""
    from hydra.utils import instantiate

    from .training.precision import resolve_trainer_precision
    setup_env(cfg)
    model = load_checkpoint(cfg.ckpt, cfg.task.name)
    data = data_config(cfg, model, overrides)
    with open_dict(cfg):
        cfg.data = data
    check_options(cfg, ("data",))
    dm = instantiate(cfg.data, _convert_="all")
    dm.load_state(model.data_state)
    dm.prepare_data()
    dm.setup("test")
    precision = resolve_trainer_precision(cfg)
    trainer = instantiate(cfg.trainer, logger=False, callbacks=[], enable_checkpointing=False,
                          enable_progress_bar=False, enable_model_summary=False)
    test = test_metrics(trainer.test(model, datamodule=dm, verbose=False)[0])
    if trainer.global_rank != 0:
        return None
    baselines = dm.baselines() if cfg.baselines else {}
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    head = {"task": cfg.task.name, "ckpt": str(cfg.ckpt), "precision": precision, "data": plain(cfg.data)}
    results = report(model, dm, run_dir, head, test, baselines, cfg.num_examples)
    if cfg.get("out"):
        write_text(cfg.out, json.dumps({"task": cfg.task.name, "ckpt": cfg.ckpt, "test": test}, indent=2))
    return results


# ---------------------------------------------------------------------------------------------- rnn-predict
def predict(cfg):
    """Answer as `rnn-predict` does: the task's registered `predict(model, cfg)` prints and returns its answers."""
    setup_env(cfg)
    task = get_task(cfg.task.name)
    if task.predict is None:
        raise UserError(f"task {task.name!r} has no predict entry point")
    task_predict = load_object(task.predict)
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = load_checkpoint(cfg.ckpt, cfg.task.name, map_location=device)
    with torch.no_grad():
        return task_predict(model, cfg)


# ---------------------------------------------------------------------------------------------- the run folder
def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, default=float))


def test_metrics(out):
    """`trainer.test`'s {"test/bpc": ...} as {"bpc": float}."""
    return {k.split("/", 1)[1]: float(v) for k, v in out.items() if k.startswith("test/")}


def report(model, dm, run_dir, head, test, baselines, num_examples, images=None):
    """After a test: the task's extra results and plots, predictions.txt and results.json in the run folder.
    Returns what results.json holds."""
    extra = model.extra_results(dm, run_dir)
    images = {**extra.pop("images", {}), **(images or {})}
    examples = model.examples(dm, n=num_examples)
    write_text(run_dir / "predictions.txt", "\n".join(examples) + "\n")
    results = {**head, "test": test, "baselines": baselines, "splits": dm.split_summary(), **extra,
               "images": {k: str(v) for k, v in images.items()}}
    write_json(run_dir / "results.json", results)
    return results


def log_images(loggers, images):
    """Send PNGs to W&B (the CSV logger has no images; they stay in the run folder)."""
    from pytorch_lightning.loggers import WandbLogger
    for lg in loggers:
        if isinstance(lg, WandbLogger) and images:
            for key, path in images.items():
                lg.log_image(key=key, images=[str(path)])
