"""The synthetic probes' models.

- Adding: a cell stack reads the whole sequence; a linear head on the last output predicts the sum (many-to-one).
- Copy memory: a cell stack reads one-hot tokens; a linear head at every step predicts the output (synced).
"""
import torch.nn.functional as F
from torch import nn

from rnnsuite.architectures import SeqToSeq, SeqToVec
from rnnsuite.cells import build_stack
from rnnsuite.training import TaskModule
from rnnsuite.training.diagnostics import grad_norm_through_time, plot_grad_norms

from .data import COPY_LEN


class AddingModel(TaskModule):
    task_name = "synthetic"
    scores_any_split = True

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
        curves = {k: [float(g) for g in v] for k, v in self.grad_curves.items()}
        return {"grad_norm_first_over_last": ratio, "grad_norm_through_time": curves,
                "images": {"grad_norm_through_time": png}}

    def examples(self, datamodule, n=5):
        x, y = datamodule.splits["test"]
        pred = self(x[:n].to(self.device)).detach().cpu()
        return [f"marked values {x[i, :, 0][x[i, :, 1] > 0].tolist()} -> predicted {float(pred[i]):.3f}, "
                f"true {float(y[i]):.3f}" for i in range(n)]


class CopyModel(TaskModule):
    task_name = "synthetic"
    scores_any_split = True

    def __init__(self, num_tokens, num_classes, cell, optim=None, monitor=None, hidden_size=128, num_layers=1):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        self.num_tokens = num_tokens
        self.rnn = SeqToSeq(build_stack(cell, num_tokens, hidden_size, num_layers))
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        h, _ = self.rnn(F.one_hot(x, self.num_tokens).float())
        return self.head(h)

    def _step(self, batch, split):
        x, y = batch
        logits = self(x)
        ce = F.cross_entropy(logits.transpose(1, 2), y)  # nats per step, over all T + 20 steps
        copy_acc = (logits[:, -COPY_LEN:].argmax(-1) == y[:, -COPY_LEN:]).float().mean()  # the copied symbols
        self.log_split(split, {"loss": ce, "ce": ce, "copy_acc": copy_acc}, batch_size=len(y))
        return ce

    def examples(self, datamodule, n=5):
        x, y = datamodule.splits["test"]
        pred = self(x[:n].to(self.device)).argmax(-1).cpu()
        return [f"symbols {y[i, -COPY_LEN:].tolist()} -> copied {pred[i, -COPY_LEN:].tolist()}" for i in range(n)]
