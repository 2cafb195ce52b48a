"""`rnn-eval task=X ckpt=PATH`: test a checkpoint on its task's test split, with the data it was trained with.

The data config comes from the checkpoint (the run's own `data.*`); `data.KEY=VALUE` on the command line changes
that key only (for example a translation test set with longer sentences), and `data=NAME` replaces it. The
Trainer is the configured one (`trainer=...`, `trainer.precision=...`), with no logger or checkpoints. The run
folder (outputs/eval/<time>, or hydra.run.dir=...) gets results.json and the task's plots, as after training.
"""
import json
from pathlib import Path

import hydra
from hydra.utils import instantiate
from omegaconf import OmegaConf, open_dict

from ..atomic import write_text
from ..training.precision import resolve_trainer_precision
from .common import (CONF, check_options, cli_main, friendly, load_checkpoint, plain, report, setup_env,
                     test_metrics)


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


@friendly
def evaluate(cfg, overrides=None):
    """`overrides`: the command line's (Hydra's `overrides.task`), which says which `data.*` keys to change."""
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
        return test
    baselines = dm.baselines() if cfg.baselines else {}
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    head = {"task": cfg.task.name, "ckpt": str(cfg.ckpt), "precision": precision, "data": plain(cfg.data)}
    report(model, dm, run_dir, head, test, baselines, cfg.num_examples)
    if cfg.get("out"):
        write_text(cfg.out, json.dumps({"task": cfg.task.name, "ckpt": cfg.ckpt, "test": test}, indent=2))
    return test


@hydra.main(version_base="1.3", config_path=CONF, config_name="eval")
def _main(cfg):
    from hydra.core.hydra_config import HydraConfig
    return evaluate(cfg, list(HydraConfig.get().overrides.task))


def main():
    cli_main(_main)
