"""What the base module logs per step: the pre-clipping gradient norm, on the Trainer's logging steps only,
and the wall clock beside each validation."""
import pytorch_lightning as pl
import pytest
import torch
from torch import nn

from rnnsuite.training import TaskModule
from rnnsuite.training.base import WallClock


class Tiny(TaskModule):
    def __init__(self):
        super().__init__({"name": "sgd", "lr": 0.1})
        self.lin = nn.Linear(3, 1)
        self.seen, self.logged = {}, {}

    def log(self, name, value, *args, **kwargs):
        if name == "train/grad_norm":
            self.logged[self.trainer.global_step] = float(value)
        super().log(name, value, *args, **kwargs)

    def _step(self, batch, split):
        x, y = batch
        loss = ((self.lin(x) - y) ** 2).mean()
        self.log(f"{split}/loss", loss)
        return loss

    def on_before_optimizer_step(self, optimizer):
        super().on_before_optimizer_step(optimizer)
        # independent reference: torch's own total norm of the unclipped gradients (max_norm=inf clips nothing)
        self.seen[self.trainer.global_step] = float(torch.nn.utils.clip_grad_norm_(self.parameters(), float("inf")))


def test_grad_norm_is_logged_on_logging_steps_before_clipping(tmp_path):
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(40, 3) * 10, torch.randn(40, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=4)
    model, clock = Tiny(), WallClock()
    trainer = pl.Trainer(max_epochs=1, log_every_n_steps=3, gradient_clip_val=0.01, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[clock], default_root_dir=tmp_path)
    trainer.fit(model, loader, loader)
    assert sorted(model.logged) == [2, 5, 8]             # steps 3, 6, 9 of 10 (log_every_n_steps=3)
    for step, value in model.logged.items():
        assert value == pytest.approx(model.seen[step], rel=1e-5)
        assert value > 0.01                              # the clip threshold: so the norm was taken before it
    assert trainer.callback_metrics["time/elapsed_s"] > 0


class Weighted(TaskModule):
    """log_split with a tensor metric and a torchmetrics metric; records every batch's value to check against."""

    def __init__(self):
        super().__init__({"name": "sgd", "lr": 0.05})
        self.lin = nn.Linear(3, 1)
        from torchmetrics import MeanAbsoluteError
        self.mae = MeanAbsoluteError()
        self.batches, self.train_log_calls = [], 0

    def log(self, name, value, *args, **kwargs):
        if name.startswith("train/") and name != "train/grad_norm" and self.trainer.training:
            self.train_log_calls += 1
        super().log(name, value, *args, **kwargs)

    def _step(self, batch, split):
        x, y = batch
        pred = self.lin(x)
        loss = ((pred - y) ** 2).mean()
        err = (pred - y).abs().max()
        if split == "train":
            self.batches.append((self.current_epoch, float(err.detach()), len(y), (pred - y).abs().detach().flatten(),
                                 float(loss.detach())))
        self.mae.update(pred.detach(), y)
        self.log_split(split, {"loss": loss, "maxerr": err, "mae": self.mae}, batch_size=len(y))
        return loss


def test_train_metrics_are_weighted_epoch_means_logged_once_per_epoch(tmp_path):
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(10, 3), torch.randn(10, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=4)    # batches of 4, 4 and 2
    model = Weighted()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path, limit_val_batches=0,
                         log_every_n_steps=2)
    trainer.fit(model, loader)
    last = [b for b in model.batches if b[0] == 1]              # the metrics of epoch 2 cover epoch 2 only
    sizes = sum(b[2] for b in last)
    expected_max = sum(b[1] * b[2] for b in last) / sizes
    expected_loss = sum(b[4] * b[2] for b in last) / sizes
    expected_mae = float(torch.cat([b[3] for b in last]).mean())
    assert trainer.callback_metrics["train/maxerr"] == pytest.approx(expected_max, rel=1e-6)
    assert trainer.callback_metrics["train/loss_epoch"] == pytest.approx(expected_loss, rel=1e-6)
    assert trainer.callback_metrics["train/mae"] == pytest.approx(expected_mae, rel=1e-6)
    assert expected_max != pytest.approx(sum(b[1] for b in last) / 3, rel=1e-3)  # the weights matter here
    assert trainer.callback_metrics["train/loss_step"] == pytest.approx(model.batches[-1][4])  # step 6 of 6
    # the step loss on the Trainer's logging steps (2, 4, 6), the three epoch means once an epoch
    assert model.train_log_calls == 3 + 3 * 2
