"""`TaskDataModule`: the base of every task's DataModule.

It owns what all tasks do the same way: fetching a registered dataset (`prepare_data`), choosing the reader
of `data.source` (`load_source`, one clear error for an unknown source), setting up once (`setup`), the
three dataloaders (`loader`), the data state a checkpoint carries (tokenizers, scalers), and the split summary
that results.json reports. A task declares

    task = "name"
    sources = {"source name": "method that reads it", ...}   # e.g. {"rotten_tomatoes": "read_registered"}

and implements `build(raw)`: from what the reader returned, set `self.splits` (per split, what baselines and
examples need), `self.datasets` ({"train", "val", "test"}) and, when `self._state` is None, fit the data state
on the train split only.
"""
import functools

import pytorch_lightning as pl
import torch

from .fetch import DataError
from .registry import all_sources, get_source

SPLITS = ("train", "val", "test")


class TaskDataModule(pl.LightningDataModule):
    task = "base"
    sources = {}
    eval_batch_size = None  # val/test batch size, when it differs from batch_size
    unit = "examples"       # what one example of a split is, in the split summary

    def __init__(self, source=None, batch_size=64, num_workers=0, seed=0, fixture_size=None):
        super().__init__()
        self.source, self.batch_size, self.num_workers = source, batch_size, num_workers
        self.seed, self.fixture_size = seed, fixture_size
        self._state = None
        self.splits = self.datasets = None

    # ------------------------------------------------------------------ reading the source
    def prepare_data(self):
        """Fetch the source when it is a registered dataset (idempotent; other sources need nothing)."""
        if self.source in all_sources():
            get_source(self.source).fetch()

    def raw_dir(self):
        """The registered dataset's raw folder, or a clear error saying what to fetch."""
        return get_source(self.source).require()

    def load_source(self):
        """What the reader of `self.source` returns (a frame, documents, rolls, splits...)."""
        if self.source not in self.sources:
            raise DataError(f"unknown {self.task} source {self.source!r}; use {', '.join(self.sources)}")
        return getattr(self, self.sources[self.source])()

    def setup(self, stage=None):
        if self.datasets is None:
            self.build(self.load_source())

    def build(self, raw):
        raise NotImplementedError

    # ------------------------------------------------------------------ what the model and the CLI read
    def model_dims(self):
        """What the model must know about the data (vocabulary size, features, classes, horizon)."""
        return {}

    def state(self):
        """Plain, JSON-able data state (tokenizer, scalers): saved in the checkpoint for eval and predict."""
        return self._state

    def load_state(self, state):
        """Reuse a checkpoint's data state instead of fitting a new one on the train split."""
        self._state = state

    def baselines(self):
        """{name: {metric: value}} on exactly the test split the model is scored on."""
        return {}

    def describe_split(self, split):
        """What results.json says about one split, {unit: count}: {"examples": n} unless a task names its units
        (texts, pairs, documents and characters, ...)."""
        return {self.unit: len(self.datasets[split])}

    def split_summary(self):
        return {split: self.describe_split(split) for split in SPLITS}

    # ------------------------------------------------------------------ loaders
    def dataset(self, split):
        return self.datasets[split]

    def collate(self, batch, split):
        """How a split's examples become a batch (by default torch's own collation)."""
        return torch.utils.data.default_collate(batch)

    def loader(self, split):
        collate = functools.partial(self.collate, split=split)
        batch_size = self.batch_size if split == "train" else (self.eval_batch_size or self.batch_size)
        return torch.utils.data.DataLoader(self.dataset(split), batch_size=batch_size, shuffle=split == "train",
                                           collate_fn=collate, num_workers=self.num_workers,
                                           persistent_workers=self.num_workers > 0)

    def train_dataloader(self):
        return self.loader("train")

    def val_dataloader(self):
        return self.loader("val")

    def test_dataloader(self):
        return self.loader("test")
