"""A callback for tests that kill a training run: `rnn-train +callbacks.kill_point._target_=tests.kill_point.
WaitAfterStep +callbacks.kill_point.step=N +callbacks.kill_point.marker=PATH` trains N steps, and once the
checkpoint of step N is on disk (checkpoint callbacks run at the end of a step), writes PATH and waits, so the
test can kill the process at a known point in the middle of an epoch."""
import time
from pathlib import Path

from pytorch_lightning.callbacks import Callback


class WaitAfterStep(Callback):
    def __init__(self, step, marker):
        self.step, self.marker = int(step), Path(marker)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            self.marker.write_text(f"{trainer.current_epoch} {batch_idx}\n")
            time.sleep(600)  # killed long before this ends
