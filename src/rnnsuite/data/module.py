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
import os

import pytorch_lightning as pl
import torch
from torch.utils.data import DistributedSampler

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
        self._train_loader = self._train_position = None

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

    def processes(self):
        """(this process's rank, the number of processes): (0, 1) outside a distributed run."""
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def on_gpu(self):
        """Whether the Trainer feeds a GPU: then batches are pinned and prepared by worker processes."""
        return self.trainer is not None and self.trainer.accelerator.__class__.__name__ == "CUDAAccelerator"

    def loader(self, split):
        """Training: shuffled in an order fixed by the seed and the epoch, resumable mid-epoch (`ResumableLoader`).
        Val / test: in order; under DDP each process reads its own part, every example exactly once (no padding
        repeats), so the synced metrics equal one process's."""
        from pytorch_lightning.overrides.distributed import UnrepeatedDistributedSampler
        ds = self.dataset(split)
        rank, world = self.processes()
        if split == "train":
            sampler = self.train_sampler(ds, rank, world)
        else:
            sampler = UnrepeatedDistributedSampler(ds, num_replicas=world, rank=rank, shuffle=False) \
                if world > 1 else None
        gpu = self.on_gpu()
        workers = self.num_workers or (min(4, max(1, (os.cpu_count() or 2) - 1)) if gpu else 0)
        return self.resumable(split, ResumableLoader(
            ds, batch_size=self.batch_size if split == "train" else (self.eval_batch_size or self.batch_size),
            sampler=sampler, collate_fn=functools.partial(self.collate, split=split), num_workers=workers,
            pin_memory=gpu, persistent_workers=workers > 0, generator=torch.Generator().manual_seed(self.seed)))

    def train_sampler(self, ds, rank=0, world=1):
        """The training order: shuffled by the training seed (seed_everything exports it) and the epoch."""
        seed = int(os.environ.get("PL_GLOBAL_SEED", self.seed))
        # the sampler draws epoch e's order with seed + e: spread the seeds so that no two runs share orders
        return ResumableSampler(ds, shuffle=True, seed=seed * 100_003, rank=rank, world=world)

    # Lightning keeps the DataModule's state in every checkpoint and restores it whenever a run resumes (it
    # restores a loader's own state only when it sets up its loaders after the checkpoint is read, which a
    # schedule that asks for the number of steps prevents): where the training loader was in its epoch.
    def resumable(self, split, loader):
        """Keep the training loader, to save its position and to resume it."""
        if split == "train":
            self._train_loader = loader
            if self._train_position is not None:
                loader.load_state_dict(self._train_position)
        return loader

    def state_dict(self):
        return {"train_position": self._train_loader.state_dict()} if self._train_loader is not None else {}

    def load_state_dict(self, state):
        self._train_position = state.get("train_position")
        if self._train_loader is not None and self._train_position is not None:
            self._train_loader.load_state_dict(self._train_position)

    def train_dataloader(self):
        return self.loader("train")

    def val_dataloader(self):
        return self.loader("val")

    def test_dataloader(self):
        return self.loader("test")


class ResumableSampler(DistributedSampler):
    """The training order: torch's `DistributedSampler` (a permutation fixed by seed and epoch, this process's
    share of it; one process has all of it) that can also start an epoch part-way, for a run resumed from a
    checkpoint written mid-epoch (`resume_after`)."""

    def __init__(self, dataset, shuffle=True, seed=0, rank=0, world=1):
        super().__init__(dataset, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed)
        self.skip = None  # (epoch, number of indices) to leave out once

    def resume_after(self, epoch, n):
        self.skip = (epoch, n)

    def __iter__(self):
        indices = list(super().__iter__())
        if self.skip is not None and self.skip[0] == self.epoch and self.skip[1] < len(indices):
            indices = indices[self.skip[1]:]
        self.skip = None
        return iter(indices)


class ResumableLoader(torch.utils.data.DataLoader):
    """A DataLoader whose position Lightning keeps in each checkpoint (through `state_dict` / `load_state_dict`):
    the epoch and the batches it has handed out in it. A run resumed from a checkpoint written mid-epoch reads on
    from the next batch in the same order. The sampler (`ResumableSampler`) or an iterable dataset with
    `resume_after(epoch, n)` skips what was read. Lightning fetches no batch ahead when a loader has a length,
    so at a checkpoint the count is exactly the batches trained on."""

    def __init__(self, *args, generator=None, **kwargs):
        # Making an iterator draws the workers' base seed from `generator`, or from the global torch RNG when there
        # is none. A run resumed mid-epoch restores the global RNG before the epoch's iterator is made, so that
        # draw would shift every random number after it (dropout, sampling) against the run it continues.
        super().__init__(*args, generator=generator if generator is not None
                         else torch.Generator().manual_seed(torch.initial_seed()), **kwargs)

    def __iter__(self):
        self.read = 0
        if getattr(self, "resume_at", None) is not None:
            epoch, read = self.resume_at
            self.resume_at = None
            if epoch == self._epoch() and read < len(self):
                self.read = read
        for batch in super().__iter__():
            self.read += 1
            yield batch

    def _order(self):
        """What draws the epoch's order and skips what was read: an iterable dataset, a task's own batch sampler
        (both counted in batches), or the sampler (counted in examples)."""
        if isinstance(self.dataset, torch.utils.data.IterableDataset):
            return self.dataset
        return self.batch_sampler if self.batch_size is None else self.sampler

    def _epoch(self):
        return getattr(self._order(), "epoch", 0)

    def state_dict(self):
        return {"epoch": self._epoch(), "batches": getattr(self, "read", 0)}

    def load_state_dict(self, state):
        epoch, read = int(state["epoch"]), int(state["batches"])
        self.resume_at = (epoch, read)
        self._order().resume_after(epoch, read if self.batch_size is None else read * self.batch_size)
