"""Bach chorales as piano rolls (or a generated fixture of the same shape), split by chorale, seeded.

Each chorale is a bool [T, P] roll over the pitch range present in the corpus. The model reads frame t-1 and
predicts frame t; frame 0 is predicted from an all-zero "start" frame, so every frame of a chorale is scored.
"""
import math
import random

import numpy as np
import torch

from rnnsuite.data.module import TaskDataModule
from rnnsuite.data.sources.chorales import load_rolls


def fixture_rolls(n=48, seed=0):
    """Four-voice chorale-like rolls: voices move by small steps within a C-major scale, phrases of 4-16 beats.
    The same shape as the real rolls ([T, 128] bool), generated so fast tests need no corpus."""
    rng = random.Random(seed)
    scale = [p for p in range(36, 84) if p % 12 in (0, 2, 4, 5, 7, 9, 11)]
    rolls = []
    for _ in range(n):
        T = rng.randint(16, 48)
        roll = np.zeros((T, 128), dtype=bool)
        voices = [rng.randrange(i * 7, i * 7 + 7) for i in range(4)]  # indices into `scale`, low to high
        for t in range(T):
            for v in range(4):
                if t % 2 == 0 and t > 0:  # change on every second beat, mostly by one step
                    voices[v] = min(len(scale) - 1, max(0, voices[v] + rng.choice((-1, 0, 1))))
                roll[t, scale[voices[v]]] = True
        rolls.append(roll)
    return rolls


def nll_independent(train, test, eps=1e-3):
    """NLL per frame (nats) of a model with a fixed, frame-independent probability for each pitch."""
    p = np.clip(np.concatenate(train).mean(0), eps, 1 - eps)
    frames = np.concatenate(test).astype(float)
    return float(-(frames * np.log(p) + (1 - frames) * np.log(1 - p)).sum(1).mean())


class RollDataset(torch.utils.data.Dataset):
    def __init__(self, rolls):
        self.rolls = [torch.as_tensor(r, dtype=torch.float32) for r in rolls]

    def __len__(self):
        return len(self.rolls)

    def __getitem__(self, i):
        return self.rolls[i]


def collate_rolls(batch):
    """[T_i, P] rolls -> inputs (start frame + frames[:-1]) [B, T, P], targets [B, T, P], lengths [B], and
    frames (their sum, a Python int: the loss's weight, known without reading a tensor back from a GPU)."""
    lengths = torch.tensor([len(r) for r in batch])
    targets = torch.nn.utils.rnn.pad_sequence(batch, batch_first=True)
    inputs = torch.cat([torch.zeros_like(targets[:, :1]), targets[:, :-1]], 1)
    return {"inputs": inputs, "targets": targets, "lengths": lengths, "frames": int(lengths.sum())}


class MusicDataModule(TaskDataModule):
    task = "music"
    sources = {"chorales": "read_chorales", "fixture": "read_fixture"}

    def __init__(self, source="chorales", resolution=1.0, batch_size=16, val_frac=0.1, test_frac=0.1, seed=0,
                 fixture_size=48, num_workers=0):
        super().__init__(source, batch_size, num_workers, seed, fixture_size)
        self.resolution = float(resolution)
        self.val_frac, self.test_frac = val_frac, test_frac

    def prepare_data(self):
        super().prepare_data()
        if self.source == "chorales":
            load_rolls(self.resolution)  # parse once and cache

    def read_chorales(self):
        rolls, ids, _ = load_rolls(self.resolution)
        return rolls, ids

    def read_fixture(self):
        rolls = fixture_rolls(self.fixture_size, self.seed)
        return rolls, list(range(1, len(rolls) + 1))

    def build(self, raw):
        rolls, ids = raw
        if self._state is None:
            # the pitch range present anywhere in the corpus, so no test note falls outside the model's outputs
            used = np.flatnonzero(np.concatenate(rolls).any(0))
            self._state = {"low": int(used.min()), "high": int(used.max()), "resolution": self.resolution}
        lo, hi = self._state["low"], self._state["high"]
        order = list(range(len(rolls)))
        random.Random(self.seed).shuffle(order)
        n_test, n_val = math.ceil(self.test_frac * len(order)), math.ceil(self.val_frac * len(order))
        parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
        self.splits = {k: {"ids": [ids[i] for i in sorted(v)], "rolls": [rolls[i][:, lo:hi + 1] for i in sorted(v)]}
                       for k, v in parts.items()}
        self.datasets = {k: RollDataset(v["rolls"]) for k, v in self.splits.items()}

    def model_dims(self):
        return {"num_pitches": self._state["high"] - self._state["low"] + 1}

    def collate(self, batch, split):
        return collate_rolls(batch)

    def baselines(self):
        train, test = self.splits["train"]["rolls"], self.splits["test"]["rolls"]
        return {"independent_pitches": {"nll": nll_independent(train, test)}}

    def describe_split(self, split):
        rolls = self.splits[split]["rolls"]
        return {"chorales": len(rolls), "frames": int(sum(len(r) for r in rolls))}


__all__ = ["MusicDataModule", "collate_rolls", "fixture_rolls"]
