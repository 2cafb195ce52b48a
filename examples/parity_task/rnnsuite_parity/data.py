"""Random bit strings and their parity, generated from a seed (a different one per split)."""
import torch

from rnnsuite.data.module import TaskDataModule


def bit_strings(n, length, seed):
    """x [n, length] in {0, 1} (float), y [n]: 1 where the string holds an odd number of 1s."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 2, (n, length), generator=g).float()
    return x, x.sum(1).long() % 2


class ParityDataModule(TaskDataModule):
    task = "parity"
    unit = "strings"
    sources = {"generated": "read_generated"}

    def __init__(self, length=8, n_train=4000, n_val=500, n_test=500, seed=0, batch_size=64, num_workers=0,
                 source="generated"):
        super().__init__(source, batch_size, num_workers, seed)
        self.length, self.sizes = length, {"train": n_train, "val": n_val, "test": n_test}

    def read_generated(self):
        return {split: bit_strings(n, self.length, self.seed * 3 + i)
                for i, (split, n) in enumerate(self.sizes.items())}

    def build(self, splits):
        self.splits = splits
        self._state = {"length": self.length}
        self.datasets = {k: torch.utils.data.TensorDataset(*v) for k, v in splits.items()}

    def baselines(self):
        """Always answer the training split's majority."""
        y_train, y_test = self.splits["train"][1], self.splits["test"][1]
        majority = int(y_train.float().mean() >= 0.5)
        return {"majority": {"acc": float((y_test == majority).float().mean())}}
