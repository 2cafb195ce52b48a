"""`rnn-eval task=X ckpt=PATH`: test a checkpoint on the task's test split, with the data it was trained with.

The run folder (outputs/eval/<time>, or hydra.run.dir=...) gets results.json and the task's plots, as after
training; `data.*` overrides change the test data (for example a translation test set with longer sentences).
"""
import json
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.utils import instantiate

from .common import CONF, cli_main, friendly, load_checkpoint, report, setup_env, test_metrics


@friendly
def evaluate(cfg):
    setup_env(cfg)
    model = load_checkpoint(cfg.ckpt, cfg.task.name)
    dm = instantiate(cfg.data, _convert_="all")
    dm.load_state(model.data_state)
    dm.prepare_data()
    dm.setup("test")
    trainer = pl.Trainer(accelerator=cfg.get("accelerator", "auto"), devices=1, logger=False,
                         enable_checkpointing=False)
    test = test_metrics(trainer.test(model, datamodule=dm, verbose=False)[0])
    baselines = dm.baselines() if cfg.baselines else {}
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    report(model, dm, run_dir, {"task": cfg.task.name, "ckpt": str(cfg.ckpt)}, test, baselines, cfg.num_examples)
    if cfg.get("out"):
        Path(cfg.out).write_text(json.dumps({"task": cfg.task.name, "ckpt": cfg.ckpt, "test": test}, indent=2))
    return test


@hydra.main(version_base="1.3", config_path=CONF, config_name="eval")
def _main(cfg):
    return evaluate(cfg)


def main():
    cli_main(_main)
