"""`rnn-predict task=X ckpt=PATH ...`: answer in a form a person reads (each task's `predict.py` decides how)."""
import importlib

import hydra
import torch

from .common import CONF_DIR, UserError, friendly, load_checkpoint, setup_env


@friendly
def predict(cfg):
    setup_env(cfg)
    try:
        task_predict = importlib.import_module(f"tasks.{cfg.task.name}.predict")
    except ModuleNotFoundError:
        raise UserError(f"task {cfg.task.name!r} has no predict entry point") from None
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = load_checkpoint(cfg.ckpt, cfg.task.name, map_location=device)
    with torch.no_grad():
        return task_predict.predict(model, cfg)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="predict")
def _main(cfg):
    return predict(cfg)


def main():
    _main()
