"""`TaskModule`: the LightningModule every task's model extends.

It owns what is common to all tasks: the optimiser and LR schedule from config, the monitored metric (the
task config's `monitor`, also what the checkpoint and early-stopping callbacks watch), gradient-norm logging
(clipping itself is the Trainer's `gradient_clip_val`), `split/metric` names, the data state (tokenizers,
scalers) kept in the checkpoint but out of the hyperparameters, the task tag written into each checkpoint,
and the hooks the CLI calls for results and human-readable examples.
"""
import math
import random
import time

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Timer
from torchmetrics import Metric

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "rmsprop": torch.optim.RMSprop}


EXP_BUDGET_END = 1 / 16  # exp_budget's final factor unless optim.decay_to says otherwise
SCHEDULE_KEYS = ("name", "scheduler", "warmup_steps", "plateau_patience", "decay_to")  # optim.* the optimiser skips


def build_optimizer(params, optim):
    """The optimiser that `optim` (the config group) names, given its own arguments (lr, betas, ...)."""
    name = optim.get("name", "adamw")
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, **{k: v for k, v in optim.items() if k not in SCHEDULE_KEYS})


def budget_decay(step, warmup, total, time_used=0.0, shape="cosine", end=EXP_BUDGET_END):
    """LR factor: linear warmup over `warmup` steps, then a decay over whichever budget runs out first, the
    remaining steps or the wall-clock (`time_used`: the fraction of trainer.max_time spent). shape="cosine": a
    half cosine to 0; shape="exp": an exponential from 1 to `end` (1/16 by default: the classic step schedule
    that halves the rate 4 times in a run, made continuous)."""
    if step < warmup:
        return (step + 1) / warmup
    done = min(1.0, max((step - warmup) / max(1, total - warmup), time_used))
    return end ** done if shape == "exp" else 0.5 * (1 + math.cos(math.pi * done))


def rng_state():
    """The random generators' states (torch, CUDA, NumPy, Python) as plain data a weights_only load accepts."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(), "numpy": [kind, keys.tolist(), pos, has_gauss, gauss],
            "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(state):
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


# Bumped when parameter names or the checkpoint's contents change: an older checkpoint gets a clear error.
CHECKPOINT_FORMAT = 2


class TaskModule(pl.LightningModule):
    task_name = "base"
    # `_step` logs whatever split it is given (per-batch means, no per-split metric objects), so validation can
    # score the raw weights and their average side by side (`rnnsuite.training.callbacks.EMA(select=True)`)
    scores_any_split = False
    average_selection = None  # that callback while it selects

    def __init__(self, optim=None, monitor=None):
        super().__init__()
        self.optim_cfg = dict(optim or {"name": "adamw", "lr": 1e-3})
        self.monitor = dict(monitor or {"metric": "val/loss", "mode": "min"})
        self.data_state = {}
        self.data_config = None  # the DataModule's config (set by rnn-train, kept in the checkpoint for rnn-eval)
        self._rng_to_restore = None
        self._train_epoch = {}  # train metrics other than the loss, summed over the epoch (see log_split)

    # ------------------------------------------------------------------ data state
    def set_data_state(self, state):
        """The DataModule's fitted state (tokenizer, scalers, vocabulary; JSON-able). It travels in the
        checkpoint, not in the hyperparameters, so hparams.yaml and the W&B config stay readable. A subclass
        that derives buffers from it extends this."""
        self.data_state = dict(state or {})

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self):
        cfg = self.optim_cfg
        opt = build_optimizer(self.parameters(), cfg)
        sched = cfg.get("scheduler", "none") or "none"
        warmup = cfg.get("warmup_steps", 0)
        patience = cfg.get("plateau_patience", 1)
        end = cfg.get("decay_to", EXP_BUDGET_END)
        if sched == "none":
            return opt
        if sched == "cosine":
            total = self.trainer.estimated_stepping_batches
            warm = torch.optim.lr_scheduler.LinearLR(opt, 1e-3, 1.0, total_iters=max(1, warmup))
            cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total - warmup))
            s = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[max(1, warmup)])
            return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "step"}}
        if sched in ("cosine_budget", "exp_budget"):  # ends when max_time (or max_epochs) ends the run
            total = self.trainer.estimated_stepping_batches
            timer = next((cb for cb in self.trainer.callbacks if isinstance(cb, Timer)), None)

            def factor(step):
                left = timer.time_remaining() if timer is not None else None
                used = 0.0 if left is None else timer.time_elapsed() / (timer.time_elapsed() + left)
                if self.trainer.world_size > 1:  # every process must use the same lr: rank 0's clock
                    used = self.trainer.strategy.broadcast(used)
                return budget_decay(step, warmup, total, used, sched.split("_")[0], end)
            s = torch.optim.lr_scheduler.LambdaLR(opt, factor)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "interval": "step"}}
        if sched == "plateau":
            s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=self.monitor["mode"], factor=0.5,
                                                           patience=patience)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": s, "monitor": self.monitor["metric"],
                                                       "interval": "epoch"}}
        raise ValueError(f"unknown scheduler {sched!r}; choose none, cosine, cosine_budget, exp_budget or plateau")

    def configure_callbacks(self):
        return [PlateauStep()] if self.optim_cfg.get("scheduler") == "plateau" else []

    def lr_scheduler_step(self, scheduler, metric):
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if getattr(self, "_plateau_stepped", None) == self.current_epoch:
                return  # PlateauStep did, before the epoch's checkpoint
            scheduler.step(metric)
        else:
            scheduler.step()

    def on_before_optimizer_step(self, optimizer):
        # Logged before the Trainer clips, so the curve shows exploding gradients as they happen; computed
        # only on the steps the Trainer logs, and on the device (no per-parameter sync to the CPU).
        trainer = self._trainer
        if trainer is None or (trainer.global_step + 1) % max(1, trainer.log_every_n_steps):
            return
        grads = [p.grad for p in self.parameters() if p.grad is not None]
        if grads:
            total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
            self.log("train/grad_norm", total, on_step=True, on_epoch=False)

    # ------------------------------------------------------------------ steps
    # A task whose train / val / test steps differ only by split defines `_step(batch, split)`.
    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        select = self.average_selection
        if select is None:
            return self._step(batch, "val")
        self._step(batch, "val_raw")
        with select.swapped(self):
            self._step(batch, "val_avg")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    # ------------------------------------------------------------------ logging helpers
    def log_split(self, split, metrics, batch_size=None, prog_bar=True):
        """Log {name: value} as "split/name", per epoch (the train loss also per step, as train/loss_step; its
        epoch mean is train/loss_epoch). A value is a tensor (averaged over the epoch, weighted by batch_size) or
        a torchmetrics Metric updated by the caller (computed over the epoch); both are synced across processes.

        Training steps bypass `self.log`, whose bookkeeping costs Lightning about a millisecond a call (a tenth of
        a small model's step): the train metrics are summed here on the device and logged once, in
        `on_train_epoch_end`, with the same weighted mean; the step loss is logged on every step the Trainer
        writes logs (`log_every_n_steps`), and for the progress bar every few steps between them."""
        distributed = self._trainer is not None and self._trainer.world_size > 1
        # A float weight (an int or a tensor, e.g. a count of tokens, left on the device): Lightning sums int
        # weights in an integer tensor and under DDP (gloo) averages that count over the processes in place,
        # truncated (an odd total of 925 tokens became 462, and the synced loss came out 0.1% high).
        weight = None if batch_size is None else torch.as_tensor(batch_size, dtype=torch.float32, device=self.device)
        for k, v in metrics.items():
            metric = isinstance(v, Metric)
            if split != "train":
                if self.average_selection is not None and not metric:
                    self.average_selection.add(split, k, torch.as_tensor(v, dtype=torch.float32).detach(),
                                               1.0 if weight is None else weight)
                self.log(f"{split}/{k}", v, batch_size=None if metric else weight, prog_bar=prog_bar and k in
                         ("loss", "acc"), on_epoch=True, **({} if metric else {"sync_dist": distributed}))
            elif metric:
                self._train_epoch[k] = v
            else:
                w = torch.ones((), device=self.device) if weight is None else weight
                total, seen = self._train_epoch.get(k, (0.0, 0.0))
                value = torch.as_tensor(v, dtype=torch.float32, device=self.device).detach()
                self._train_epoch[k] = (total + value * w, seen + w)
                if k == "loss" and self._trainer is not None:
                    n = max(1, self._trainer.log_every_n_steps)
                    every = max(d for d in range(1, 11) if n % d == 0)  # so every step the Trainer writes is one
                    if (self._trainer.global_step + 1) % every == 0:
                        self.log("train/loss_step", value, prog_bar=prog_bar, on_step=True, on_epoch=False,
                                 sync_dist=distributed)

    def on_train_epoch_end(self):
        """The train metrics `log_split` summed over the epoch: weighted means over every process's batches."""
        distributed = self.trainer.world_size > 1
        sums, self._train_epoch = self._train_epoch, {}
        for k, v in sums.items():
            if isinstance(v, Metric):
                value = v.compute()  # synced over the processes by torchmetrics
                v.reset()
            else:
                total = torch.stack([v[0], v[1]])
                if distributed:
                    total = self.trainer.strategy.reduce(total, reduce_op="sum")
                value = total[0] / total[1]
            # the value is already the same on every process; sync_dist only keeps Lightning from warning
            self.log("train/loss_epoch" if k == "loss" else f"train/{k}", value, prog_bar=k in ("loss", "acc"),
                     sync_dist=distributed)

    # ------------------------------------------------------------------ checkpoint identity and resuming
    def on_save_checkpoint(self, checkpoint):
        checkpoint["rnnsuite"] = {"task": self.task_name, "format": CHECKPOINT_FORMAT,
                                  "class": f"{type(self).__module__}.{type(self).__qualname__}",
                                  "data": self.data_config}
        checkpoint["data_state"] = self.data_state
        checkpoint["rng_state"] = rng_state()

    def on_load_checkpoint(self, checkpoint):
        self.set_data_state(checkpoint.get("data_state"))
        self.data_config = (checkpoint.get("rnnsuite") or {}).get("data")
        self._rng_to_restore = checkpoint.get("rng_state")

    def on_train_start(self):
        # A resumed run draws the same random numbers (dropout, sampling, augmentation) from here on as the run it
        # continues did after its checkpoint. Restored only now: Lightning's set-up after loading the checkpoint
        # must not shift them.
        if self._rng_to_restore is not None:
            set_rng_state(self._rng_to_restore)
            self._rng_to_restore = None

    # ------------------------------------------------------------------ hooks for the CLI
    def examples(self, datamodule, n=5):
        """A few test predictions as lines a person reads."""
        return []

    def extra_results(self, datamodule, run_dir):
        """Task-specific results (baselines are the DataModule's) and plots written to run_dir."""
        return {}


class PlateauStep(pl.Callback):
    """Steps a ReduceLROnPlateau scheduler at the validation that ends an epoch, before the epoch's checkpoints
    are written. Lightning steps it after them, and skips the step of an epoch a run was resumed in: a run
    resumed from a checkpoint of the middle or the end of an epoch never halved the rate that epoch asked for.
    Stepped here, the checkpoint holds the scheduler as the epoch left it, and resuming changes nothing. Where
    no validation ends the epoch (validation every N steps), Lightning's own step at the epoch's end stands."""

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking or not trainer.is_last_batch:
            return
        for config in trainer.lr_scheduler_configs:
            value = trainer.callback_metrics.get(config.monitor)
            if config.reduce_on_plateau and value is not None:
                config.scheduler.step(value)
                pl_module._plateau_stepped = trainer.current_epoch


class WallClock(pl.Callback):
    """Logs `time/elapsed_s` (seconds since fit started, validation included) with every validation, so a
    run's metrics.csv holds its validation curve against wall-clock time."""

    def on_fit_start(self, trainer, pl_module):
        self.start = time.perf_counter()

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking and getattr(self, "start", None) is not None:
            pl_module.log("time/elapsed_s", time.perf_counter() - self.start, sync_dist=trainer.world_size > 1)
