"""`rnn-train task=X cell=Y ...`: fit, test the best checkpoint, write results.json and plots, print metrics
next to the baselines. `-m` sweeps (the project's grid or Optuna sweeper). `resume=<run>/checkpoints/last.ckpt`
continues a run that was stopped or killed, in the same data order."""
import time
from pathlib import Path

import hydra
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from pytorch_lightning.callbacks import Timer

from ..atomic import write_text
from ..plots import learning_curves
from ..sweep.trial import current_trial, trial_callbacks, wandb_names
from ..training.precision import resolve_trainer_precision
from .common import (CONF, build_callbacks, build_loggers, check_options, check_resume, cli_main, finish_loggers,
                     friendly, log_images, plain, read_checkpoint, report, setup_env, test_metrics)


def build(cfg):
    """DataModule and model from a composed config; the model learns its sizes from the DataModule."""
    dm = instantiate(cfg.data, _convert_="all")
    dm.prepare_data()
    dm.setup("fit")
    model = instantiate(cfg.model, _convert_="all", cell=plain(cfg.cell), optim=plain(cfg.optim),
                        monitor=plain(cfg.monitor), **dm.model_dims())
    model.set_data_state(dm.state())
    model.data_config = plain(cfg.data)  # rnn-eval rebuilds the test split from it
    return dm, model


@friendly
def train(cfg):
    setup_env(cfg)
    check_options(cfg)
    resume = read_checkpoint(cfg.resume, cfg.task.name) if cfg.get("resume") else None
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    precision = resolve_trainer_precision(cfg)  # trainer.precision=auto -> what this hardware runs natively
    write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    trial = current_trial()  # an Optuna trial when an Optuna sweep runs this job, else None
    if trial is not None:
        trial.set_user_attr("run_dir", str(run_dir))
    # Loggers first, so that a run that fails while building still has its W&B run, finished as failed.
    loggers = build_loggers(cfg, wandb_names(trial) if trial is not None else None)
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
    timer = next((cb for cb in trainer.callbacks if isinstance(cb, Timer)), None)
    if timer is None:
        timer = Timer()
        trainer.callbacks.append(timer)
    return timer


def fit_and_test(cfg, run_dir, loggers, trial, precision, resume):
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
        return test
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
    return best_val


@hydra.main(version_base="1.3", config_path=CONF, config_name="train")
def _main(cfg):
    return train(cfg)


def main():
    cli_main(_main)


if __name__ == "__main__":
    main()
