"""`rnn-predict task=X ckpt=PATH ...`: answer in a form a person reads (each task's registered `predict`
function decides how)."""
import hydra
import torch

from ..inputs import UserError
from ..registry import get_task, load_object
from .common import CONF, cli_main, friendly, load_checkpoint, setup_env


@friendly
def predict(cfg):
    setup_env(cfg)
    task = get_task(cfg.task.name)
    if task.predict is None:
        raise UserError(f"task {task.name!r} has no predict entry point")
    task_predict = load_object(task.predict)
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = load_checkpoint(cfg.ckpt, cfg.task.name, map_location=device)
    with torch.no_grad():
        return task_predict(model, cfg)


@hydra.main(version_base="1.3", config_path=CONF, config_name="predict")
def _main(cfg):
    return predict(cfg)


def main():
    cli_main(_main)
