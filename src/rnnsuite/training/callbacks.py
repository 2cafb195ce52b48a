"""Callbacks every run gets from `conf/callbacks/`."""
import contextlib
import math
import time

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import RichProgressBar, WeightAveraging

from rnnsuite.inputs import UserError


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
    average lags the improving weights at the end and scores worse (docs/tasks/charlm.md has the runs).
    `callbacks.ema={_target_:rnnsuite.training.callbacks.EMA,gamma:7}` turns it on.

    `select=True` keeps whichever scores better at each validation: every validation batch is scored with the
    raw weights (logged as `val_raw/*`) and with the average (`val_avg/*`), and the monitored metric
    (what checkpoints, early stopping and sweeps see) is the better of the two: `val/*` are the scores of
    the weights kept, and `val/average_chosen` is 1 where the average won. The checkpoint's `state_dict` holds
    those weights. This costs a second pass over the validation split; it is for
    tasks whose metrics are per-batch means (charlm, music, synthetic: `TaskModule.scores_any_split`).

    `state_dict` in a checkpoint holds the averaged (or selected) weights, what rnn-eval and rnn-predict load;
    the raw weights ride along for `resume=`. Lightning's callback also puts the raw weights back when the same
    Trainer tests a checkpoint after fitting (rnn-train's test of best.ckpt); here only a resumed fit does, so
    the test scores the weights validation scored, as rnn-eval does."""

    SPLITS = ("val_raw", "val_avg")

    def __init__(self, gamma=7.0, select=False):
        def update(averaged, current, n):  # n: updates averaged so far (a tensor; no sync with a GPU)
            weight = 1 - (1 - 1 / (n + 1)) ** (gamma + 1)
            for a, c in zip(averaged, current):
                a.lerp_(c, weight.to(a.dtype))
        super().__init__(multi_avg_fn=update)
        self.select = bool(select)
        self.chosen = "average"  # what the last validation kept (select=True)
        self._sums = {}

    def setup(self, trainer, pl_module, stage):
        super().setup(trainer, pl_module, stage)
        if self.select and stage == "fit":
            if not pl_module.scores_any_split:
                raise UserError(f"callbacks.ema.select=true needs a task whose validation can be scored twice; "
                                f"{pl_module.task_name} cannot (charlm, music and the synthetic tasks can)")
            pl_module.average_selection = self

    def teardown(self, trainer, pl_module, stage):
        pl_module.average_selection = None

    @contextlib.contextmanager
    def swapped(self, pl_module):
        """The averaged weights in pl_module for the duration (the raw ones are kept and put back)."""
        self._swap_models(pl_module)
        try:
            yield
        finally:
            self._swap_models(pl_module)

    def add(self, split, name, value, weight):
        """One batch's value of a metric and its weight, summed on the device per split."""
        total, seen = self._sums.get((split, name), (0.0, 0.0))
        self._sums[(split, name)] = (total + value * weight, seen + weight)

    def on_validation_epoch_start(self, trainer, pl_module):
        if not self.select:
            return super().on_validation_epoch_start(trainer, pl_module)
        self._sums = {}

    def on_validation_epoch_end(self, trainer, pl_module):
        if not self.select:
            return super().on_validation_epoch_end(trainer, pl_module)
        name = pl_module.monitor["metric"].split("/", 1)[1]
        if not all((split, name) in self._sums for split in self.SPLITS):
            return
        distributed = trainer.world_size > 1
        keys = sorted(self._sums)
        sums = torch.stack([torch.stack([torch.as_tensor(t, dtype=torch.float32), torch.as_tensor(w).float()])
                            for t, w in (self._sums[k] for k in keys)])
        if distributed:
            sums = trainer.strategy.reduce(sums, reduce_op="sum")
        means = {k: sums[i, 0] / sums[i, 1] for i, k in enumerate(keys)}
        raw, avg = float(means["val_raw", name]), float(means["val_avg", name])
        better = avg < raw if pl_module.monitor.get("mode", "min") == "min" else avg > raw
        self.chosen = "average" if better else "raw"
        kept = "val_avg" if better else "val_raw"
        for split, metric in keys:  # val/* are the scores of the weights kept
            if split == kept:
                pl_module.log(f"val/{metric}", means[split, metric], prog_bar=metric == name, sync_dist=distributed)
        pl_module.log("val/average_chosen", float(better), sync_dist=distributed)

    def on_train_end(self, trainer, pl_module):
        if not self.select or self.chosen == "average":
            super().on_train_end(trainer, pl_module)

    def state_dict(self):
        return {**super().state_dict(), "chosen": self.chosen}

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.chosen = state_dict.get("chosen", "average")

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        super().on_save_checkpoint(trainer, pl_module, checkpoint)
        if self.select and self.chosen == "raw" and "current_model_state" in checkpoint:
            checkpoint["average_state_dict"] = checkpoint["state_dict"]
            checkpoint["state_dict"] = checkpoint["current_model_state"]

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        if trainer.state.fn == "fit":
            if "average_state_dict" in checkpoint:  # the raw weights won: the average is kept aside
                checkpoint = {**checkpoint, "state_dict": checkpoint["average_state_dict"]}
            super().on_load_checkpoint(trainer, pl_module, checkpoint)
