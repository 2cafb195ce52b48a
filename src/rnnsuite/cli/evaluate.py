"""`rnn-eval task=X ckpt=PATH`: test a checkpoint on the task's test split, with the data it was trained with.

The run folder (outputs/eval/<time>, or hydra.run.dir=...) gets results.json and the task's plots, as after
training; `data.*` overrides change the test data (for example a translation test set with longer sentences).
"""
import json
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate

from .common import CONF_DIR, friendly, load_checkpoint, print_results, setup_env, write_json


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
    baselines = dm.baselines() if cfg.baselines else {}
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    extra = model.extra_results(dm, run_dir)
    extra["images"] = {k: str(v) for k, v in extra.get("images", {}).items()}
    examples = model.examples(dm, n=cfg.num_examples)
    write_json(run_dir / "results.json", {"task": cfg.task.name, "ckpt": str(cfg.ckpt), "test": test,
                                          "baselines": baselines, **extra})
    print_results(cfg.task.name, test, baselines, examples)
    print(f"run folder: {run_dir}")
    if cfg.get("out"):
        Path(cfg.out).write_text(json.dumps({"task": cfg.task.name, "ckpt": cfg.ckpt, "test": test}, indent=2))
    return test


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="eval")
def _main(cfg):
    return evaluate(cfg)


def main():
    _main()
