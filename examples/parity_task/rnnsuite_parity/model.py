"""A cell stack reads the bits; a linear head on its last state says even or odd."""
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from rnnsuite.architectures import SeqToVec
from rnnsuite.cells import build_stack
from rnnsuite.metrics import SplitMetrics
from rnnsuite.training import TaskModule


class ParityModel(TaskModule):
    task_name = "parity"

    def __init__(self, cell, optim=None, monitor=None, hidden_size=32):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        self.encoder = SeqToVec(build_stack(cell, 1, hidden_size), "last")
        self.head = nn.Linear(hidden_size, 2)
        self.metrics = SplitMetrics(lambda split: {"acc": MulticlassAccuracy(2, average="micro", validate_args=False)})

    def forward(self, bits):
        return self.head(self.encoder(bits[..., None]))

    def _step(self, batch, split):
        x, y = batch
        logits = self(x)
        acc = self.metrics[split]["acc"]
        acc.update(logits.argmax(-1), y)
        loss = F.cross_entropy(logits, y)
        self.log_split(split, {"loss": loss, "acc": acc}, batch_size=len(y))
        return loss
