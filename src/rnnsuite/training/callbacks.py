"""Callbacks every run gets from `conf/callbacks/`."""
import math
import time

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar


class NonFiniteLossError(ValueError):
    """The training loss became NaN or infinite: the run cannot recover, so it stops with this error."""


class FiniteLoss(pl.Callback):
    """Stop a run whose training loss is NaN or infinite, with a clear error instead of epochs of NaN.

    A sweep records the error on the trial (FAILED) and goes on. Off with `callbacks.finite_loss=null`
    (a study of divergence wants such runs to finish)."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        # Reading a GPU's loss waits for its step to finish: there, check on the Trainer's logging steps only
        # (a NaN loss poisons the weights, so the next check sees it too).
        if getattr(loss, "is_cuda", False) and trainer.global_step % max(1, trainer.log_every_n_steps):
            return
        if loss is not None and not math.isfinite(float(loss)):
            raise NonFiniteLossError(
                f"the training loss is {float(loss)} at step {trainer.global_step} (epoch {trainer.current_epoch}); "
                f"lower optim.lr or clip gradients (trainer.gradient_clip_val)")


class ProgressBar(RichProgressBar):
    """Lightning's rich progress bar, fed at most `refresh_rate` times a second.

    Lightning's bar reads every logged metric and marks itself for redrawing after each batch, and its drawing
    thread wakes 100 times a second. On 2 cores that costs a small model about a tenth of its training speed
    (`rnn-bench`'s suite / bare ratio). Here a batch's update is passed on only when 1 / refresh_rate s have
    gone by since the last one, or when it is the last batch of the epoch, and the thread wakes as often."""

    def __init__(self, refresh_rate=10, **kwargs):
        super().__init__(refresh_rate=refresh_rate, **kwargs)
        self._last_update = -math.inf

    def _due(self, batch_idx, total):
        now = time.monotonic()
        if batch_idx + 1 >= total or now - self._last_update >= 1 / self.refresh_rate:
            self._last_update = now
            return True
        return False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self._due(batch_idx, self.total_train_batches):
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self._due(batch_idx, self.total_val_batches_current_dataloader):
            super().on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
