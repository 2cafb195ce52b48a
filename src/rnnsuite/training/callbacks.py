"""Callbacks every run gets from `conf/callbacks/`."""
import math

import pytorch_lightning as pl


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
