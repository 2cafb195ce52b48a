"""`rnn-predict task=X ckpt=PATH ...`: answer in a form a person reads (each task's registered `predict`
function decides how; rnnsuite.run.predict loads the checkpoint and calls it)."""
import hydra

from .. import run
from ..config import CONF
from .common import cli_main, friendly

predict = friendly(run.predict)


@hydra.main(version_base="1.3", config_path=CONF, config_name="predict")
def _main(cfg):
    return predict(cfg)


def main():
    cli_main(_main)
