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
