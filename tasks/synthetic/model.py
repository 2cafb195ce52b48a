"""A cell stack reads the whole sequence; a linear head on the last output predicts the sum (many-to-one)."""
import torch.nn.functional as F
from torch import nn

from rnnsuite.architectures import SeqToVec
from rnnsuite.cells import build_stack
from rnnsuite.training import TaskModule
from rnnsuite.training.diagnostics import grad_norm_through_time, plot_grad_norms


class AddingModel(TaskModule):
    task_name = "synthetic"

    def __init__(self, input_size, cell, optim=None, monitor=None, hidden_size=64, num_layers=1):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        self.encoder = SeqToVec(build_stack(cell, input_size, hidden_size, num_layers), "last")
        self.head = nn.Linear(hidden_size, 1)
        self.grad_curves = {}

    def forward(self, x):
        return self.head(self.encoder(x)).squeeze(-1)

    def _step(self, batch, split):
        x, y = batch
        pred = self(x)
        loss = F.mse_loss(pred, y)
        # "solved" in the usual sense: the sum is right to within 0.04
        self.log_split(split, {"loss": loss, "mse": loss, "solved": ((pred - y).abs() < 0.04).float().mean()},
                       batch_size=len(y))
        return loss

    def grad_norms(self, x, y):
        return grad_norm_through_time(self.encoder.stack, x.to(self.device),
                                      lambda h: F.mse_loss(self.head(h).squeeze(-1), y.to(self.device)))

    def on_fit_start(self):
        if "at initialisation" not in self.grad_curves:  # a resumed run has it from its checkpoint
            x, y = self.trainer.datamodule.splits["val"]
            self.grad_curves["at initialisation"] = self.grad_norms(x[:256], y[:256])

    def on_save_checkpoint(self, checkpoint):
        super().on_save_checkpoint(checkpoint)
        if "at initialisation" in self.grad_curves:
            checkpoint["grad_norm_at_initialisation"] = self.grad_curves["at initialisation"]

    def on_load_checkpoint(self, checkpoint):
        super().on_load_checkpoint(checkpoint)
        if "grad_norm_at_initialisation" in checkpoint:
            self.grad_curves["at initialisation"] = checkpoint["grad_norm_at_initialisation"]

    def extra_results(self, datamodule, run_dir):
        x, y = datamodule.splits["test"]
        self.grad_curves["trained"] = self.grad_norms(x[:256], y[:256])
        cell = self.hparams.cell["type"]
        png = plot_grad_norms(self.grad_curves, run_dir / "grad_norm_through_time.png",
                              f"adding problem, T={x.size(1)}, {cell}: ||dL/dh_t||")
        ratio = {k: float(v[0] / v[-1]) for k, v in self.grad_curves.items()}
        return {"grad_norm_first_over_last": ratio, "images": {"grad_norm_through_time": png}}

    def examples(self, datamodule, n=5):
        x, y = datamodule.splits["test"]
        pred = self(x[:n].to(self.device)).detach().cpu()
        return [f"marked values {x[i, :, 0][x[i, :, 1] > 0].tolist()} -> predicted {float(pred[i]):.3f}, "
                f"true {float(y[i]):.3f}" for i in range(n)]
