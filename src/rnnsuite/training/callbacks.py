"""Callbacks every run gets from `conf/callbacks/`."""
import math
import time

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar, WeightAveraging


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


class EMA(WeightAveraging):
    """A moving average of the weights, validated, checkpointed and tested in their place.

    The power-function EMA of Karras et al. (2024, "Analyzing and improving the training dynamics of diffusion
    models"): after the n-th update the average keeps a share beta_n = (1 - 1/n) ** (gamma + 1) of itself and
    takes the rest from the new weights, so it averages over roughly the last n / (gamma + 1) updates. The
    window grows with the run and no fixed decay has to guess the run's length: there is no start-up bias
    early on and a wide average late. It pays while the learning rate is high: a run looked at midway, or
    stopped early, holds weights that score better than its last ones. Under a schedule that anneals to 0 the
    average lags the improving weights at the end and scores worse (tasks/charlm/README.md has the runs), so no
    default turns it on; `callbacks.ema={_target_:rnnsuite.training.callbacks.EMA,gamma:7}` does.

    `state_dict` in a checkpoint holds the averaged weights (what rnn-eval and rnn-predict load); the raw
    weights ride along for `resume=`. Lightning's callback also puts the raw weights back when the same Trainer
    tests a checkpoint after fitting (rnn-train's test of best.ckpt); here only a resumed fit does, so the test
    scores the weights validation scored, as rnn-eval does."""

    def __init__(self, gamma=7.0):
        def update(averaged, current, n):  # n: updates averaged so far (a tensor; no sync with a GPU)
            weight = 1 - (1 - 1 / (n + 1)) ** (gamma + 1)
            for a, c in zip(averaged, current):
                a.lerp_(c, weight.to(a.dtype))
        super().__init__(multi_avg_fn=update)

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        if trainer.state.fn == "fit":
            super().on_load_checkpoint(trainer, pl_module, checkpoint)
