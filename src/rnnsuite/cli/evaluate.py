"""`rnn-eval task=X ckpt=PATH`: test a checkpoint on the task's test split, with the data it was trained with."""
import json
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.utils import instantiate

from .common import CONF_DIR, friendly, load_checkpoint, print_results, setup_env


@friendly
def evaluate(cfg):
    setup_env(cfg)
    model = load_checkpoint(cfg.ckpt, cfg.task.name)
    dm = instantiate(cfg.data, _convert_="all")
    dm.load_state(model.hparams.data_state)
    dm.prepare_data()
    dm.setup("test")
    trainer = pl.Trainer(accelerator=cfg.get("accelerator", "auto"), devices=1, logger=False,
                         enable_checkpointing=False)
    out = trainer.test(model, datamodule=dm, verbose=False)[0]
    test = {k.split("/", 1)[1]: float(v) for k, v in out.items() if k.startswith("test/")}
    print_results(cfg.task.name, test, dm.baselines() if cfg.baselines else {}, model.examples(dm, n=cfg.num_examples))
    if cfg.get("out"):
        Path(cfg.out).write_text(json.dumps({"task": cfg.task.name, "ckpt": cfg.ckpt, "test": test}, indent=2))
    return test


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="eval")
def _main(cfg):
    return evaluate(cfg)


def main():
    _main()
