"""Character-level corpora laid out for stateful training with truncated BPTT.

A corpus is a list of documents (Shakespeare's works, stdlib modules, the files of a folder). Whole documents
are held out for val/test (seeded), so a test play is never seen in part during training. A single-file
corpus is cut into three contiguous stretches instead.

Each split's characters are concatenated and laid out as B parallel streams ([B, L]); batch i covers the same
columns of every stream, so the hidden state at the end of one batch is the right start for the next.
"""
import math
import random
import sysconfig
from pathlib import Path

import numpy as np
import torch

from rnnsuite.data import DataError
from rnnsuite.data.module import ResumableLoader, TaskDataModule
from rnnsuite.data.sources.shakespeare import load as load_shakespeare
from rnnsuite.metrics import bits_per_char

UNK = 0  # id 0 is for characters the training split never showed


# ------------------------------------------------------------------ corpora
def read_utf8(path):
    """A file's text; a non-UTF-8 or empty file is a one-line error naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}); convert it, "
                        "e.g. `iconv -f latin1 -t utf-8`") from None
    if not text.strip():
        raise DataError(f"{path} is empty: a character model needs text to learn from")
    return text


def text_corpus(path, pattern="**/*.txt"):
    """{name: text} from one UTF-8 file or every file matching `pattern` under a folder."""
    if not path:
        raise DataError("data=text needs data.path=FILE_OR_FOLDER (UTF-8 text)")
    p = Path(path).expanduser()
    if p.is_file():
        return {p.name: read_utf8(p)}
    if not p.is_dir():
        raise DataError(f"text corpus not found: {path}")
    files = sorted(f for f in p.glob(pattern) if f.is_file())
    if not files:
        raise DataError(f"no files matching {pattern!r} under {path}")
    return {str(f.relative_to(p)): read_utf8(f) for f in files}


def python_source_corpus():
    """The standard library's own .py files (always present). Files that are not UTF-8 (a few deliberate
    test cases of bad encodings) are skipped."""
    root = Path(sysconfig.get_paths()["stdlib"])
    docs = {}
    for f in sorted(root.rglob("*.py")):
        if "site-packages" in f.parts or "dist-packages" in f.parts:
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if text.strip():
            docs[str(f.relative_to(root))] = text
    if not docs:
        raise DataError(f"no Python source found under {root}")
    return docs


_NAMES = "ROMEO JULIET NURSE KING QUEEN FOOL HAMLET LEAR".split()
_WORDS = ("the my thy love night day sweet lord good fair heart death king heaven speak doth thou art "
          "not with and to of in is be it that me you").split()


def fixture_corpus(n_docs=12, lines=60, seed=0):
    """Play-like documents with the real corpus's shape (speaker lines, verse), generated for fast tests:
    which speaker talks and the word order follow simple rules, so a small model can learn them."""
    rng = random.Random(seed)
    docs = {}
    for d in range(n_docs):
        out = [f"THE TRAGEDY OF PLAY {d}\n\n"]
        for i in range(lines):
            who = _NAMES[(d + i) % len(_NAMES)]
            words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 8))]
            out.append(f"{who}:\n{' '.join(words).capitalize()}.\n\n")
        docs[f"play_{d:02d}"] = "".join(out)
    return docs


# ------------------------------------------------------------------ splitting and encoding
def split_documents(docs, val_frac, test_frac, seed):
    """Whole documents to test, then val, in seeded random order until each holds its share of characters;
    one document is cut into contiguous train / val / test stretches."""
    names = list(docs)
    if len(names) == 1:
        text = docs[names[0]]
        a, b = int(len(text) * (1 - val_frac - test_frac)), int(len(text) * (1 - test_frac))
        return {"train": {names[0]: text[:a]}, "val": {names[0]: text[a:b]}, "test": {names[0]: text[b:]}}
    if len(names) < 3:
        raise DataError(f"need one file or at least 3 documents to split by document, got {len(names)}")
    random.Random(seed).shuffle(names)
    total = sum(len(docs[n]) for n in names)
    splits = {"test": {}, "val": {}}
    for split, frac in (("test", test_frac), ("val", val_frac)):
        while names and (not splits[split] or sum(map(len, splits[split].values())) < frac * total) \
                and len(names) > 1:
            n = names.pop()
            splits[split][n] = docs[n]
    splits["train"] = {n: docs[n] for n in sorted(names)}
    return {k: splits[k] for k in ("train", "val", "test")}


def build_vocab(text, min_count=1):
    """Characters seen at least min_count times in the training text, sorted; id 0 is <unk>."""
    codes, counts = np.unique(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), return_counts=True)
    return "".join(chr(c) for c in codes[counts >= min_count])


def encode(text, chars):
    """Text -> int64 ids (1 + index in `chars`, 0 for unknown), vectorised for multi-megabyte corpora."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)
    pos = np.searchsorted(table, codes).clip(max=len(table) - 1)
    return torch.from_numpy(np.where(table[pos] == codes, pos + 1, UNK).astype(np.int64))


def decode(ids, chars):
    return "".join(chars[i - 1] if 0 < i <= len(chars) else "\ufffd" for i in ids)


# ------------------------------------------------------------------ stateful batches
class StreamWindows(torch.utils.data.IterableDataset):
    """Truncated-BPTT windows over B parallel streams.

    Window i holds stream columns [i*k1, i*k1 + k2] (k2 inputs and their next-character targets). The model
    scores only the last k1 targets of each window (all of them in window 0), so every character is scored
    once, and carries the state it reaches after k1 steps into window i+1. Backprop therefore reaches k2
    steps back from a window's last character, and the state is cut (detached) every k1 steps.

    `per_epoch` windows make one epoch; the next epoch continues where this one stopped and wraps around
    at the end of the streams (the model resets its state when it sees `reset`).
    """

    def __init__(self, ids, batch_size, k1, k2, per_epoch=None, carry_over=True):
        if k2 < k1:
            raise DataError(f"bptt k2 ({k2}) must be >= k1 ({k1}): k2 is how far back gradients reach")
        L = len(ids) // batch_size
        if L < k2 + 1:
            raise DataError(f"split too small: {len(ids)} characters give {batch_size} streams of {L}, "
                            f"fewer than k2 + 1 = {k2 + 1}; use a smaller batch_size or bptt length")
        self.streams = ids[: batch_size * L].view(batch_size, L)
        self.k1, self.k2 = k1, k2
        self.num_windows = (L - 1 - k2) // k1 + 1
        self.per_epoch = min(per_epoch or self.num_windows, self.num_windows)
        self.cursor, self.carry_over = 0, carry_over
        self.shards = 1
        self.remaining = None  # windows left in an epoch that a resumed run starts part-way

    def shard(self, rank, world):
        """Data parallelism (DDP): keep streams rank, rank + world, ... of this split, once."""
        if self.shards == 1 and world > 1:
            if self.streams.size(0) % world:
                raise DataError(f"{self.streams.size(0)} streams do not split evenly over {world} processes; "
                                "use a batch_size (and eval_batch_size) divisible by the number of processes")
            self.streams, self.shards = self.streams[rank::world], world

    def __len__(self):
        return self.per_epoch

    def window(self, i):
        a = i * self.k1
        return {"tokens": self.streams[:, a: a + self.k2 + 1], "carry_at": self.k1,
                "score_from": 0 if i == 0 else self.k2 - self.k1, "reset": i == 0}

    def resume_after(self, epoch, n):
        """A run resumed from a checkpoint written after `n` windows of an epoch reads only the rest of it (the
        DataModule restores the cursor)."""
        self.remaining = self.per_epoch - n if 0 < n < self.per_epoch else None

    def __iter__(self):
        if not self.carry_over:  # evaluation: every pass reads the whole split from its start
            self.cursor = 0
        count, self.remaining = self.remaining or self.per_epoch, None
        for _ in range(count):
            # the cursor moves on before the window is handed out: a checkpoint written after training on it
            # (Lightning saves mid-epoch ones at the end of a step) then records the next window to read
            i, self.cursor = self.cursor, (self.cursor + 1) % self.num_windows
            yield self.window(i)


class CharLMDataModule(TaskDataModule):
    task = "charlm"
    sources = {"shakespeare": "read_shakespeare", "python_source": "read_python_source", "text": "read_text",
               "fixture": "read_fixture"}

    def __init__(self, source="shakespeare", path=None, pattern="**/*.txt", batch_size=64, k1=128, k2=128,
                 eval_batch_size=32, eval_len=256, windows_per_epoch=None, val_frac=0.05, test_frac=0.05,
                 seed=0, min_count=1, fixture_size=12, num_workers=0):
        super().__init__(source, batch_size, 0, seed, fixture_size)  # stateful windows: in order, one process
        self.path, self.pattern = path, pattern
        self.k1, self.k2, self.windows_per_epoch = int(k1), int(k2), windows_per_epoch
        self.eval_batch_size, self.eval_len = eval_batch_size, eval_len
        self.val_frac, self.test_frac, self.min_count = val_frac, test_frac, min_count

    def read_shakespeare(self):
        return load_shakespeare(self.raw_dir())

    def read_python_source(self):
        return python_source_corpus()

    def read_text(self):
        return text_corpus(self.path, self.pattern)

    def read_fixture(self):
        return fixture_corpus(self.fixture_size, seed=self.seed)

    def build(self, docs):
        self.splits = split_documents(docs, self.val_frac, self.test_frac, self.seed)
        text = {k: "".join(v.values()) for k, v in self.splits.items()}
        if self._state is None:
            self._state = {"chars": build_vocab(text["train"], self.min_count), "source": self.source}
        self.chars = self._state["chars"]
        self.ids = {k: encode(t, self.chars) for k, t in text.items()}
        self.datasets = {"train": StreamWindows(self.ids["train"], self.batch_size, self.k1, self.k2,
                                                self.windows_per_epoch)}
        for split in ("val", "test"):  # evaluation: plain consecutive chunks, state carried, all scored
            B = max(1, min(self.eval_batch_size, len(self.ids[split]) // (self.eval_len + 1)))
            L = len(self.ids[split]) // B
            n = min(self.eval_len, L - 1)
            self.datasets[split] = StreamWindows(self.ids[split], B, n, n, carry_over=False)

    def model_dims(self):
        return {"vocab_size": len(self.chars) + 1}

    # Lightning stores these in checkpoints: a resumed run reads on from the window the checkpoint reached.
    def state_dict(self):
        state = super().state_dict()
        return {**state, "train_cursor": self.datasets["train"].cursor} if self.datasets is not None else state

    def load_state_dict(self, state):
        self.setup()  # Lightning sets up before it restores; this is then a no-op
        self.datasets["train"].cursor = int(state.get("train_cursor", 0)) % self.datasets["train"].num_windows
        super().load_state_dict(state)

    def loader(self, split):
        """Windows come in order, already batched (B streams each)."""
        if self.trainer is not None:  # under DDP each process reads its own share of the streams
            self.datasets[split].shard(self.trainer.global_rank, self.trainer.world_size)
        # one process (the windows are stateful and must come in order); pinned for a GPU
        return self.resumable(split, ResumableLoader(self.datasets[split], batch_size=None, pin_memory=self.on_gpu()))

    def baselines(self):
        """Unigram and bigram (add-one) character models fitted on train, in bits/char on the test split."""
        V = len(self.chars) + 1
        train, test = self.ids["train"].numpy(), self.ids["test"].numpy()
        uni = np.bincount(train, minlength=V) + 1.0
        uni_bpc = -np.log2(uni[test] / uni.sum()).mean()
        big = np.ones((V, V))
        np.add.at(big, (train[:-1], train[1:]), 1.0)
        big /= big.sum(1, keepdims=True)
        big_bpc = -np.log2(big[test[:-1], test[1:]]).mean()
        return {"unigram": {"bpc": float(uni_bpc), "loss": float(uni_bpc * math.log(2))},
                "bigram": {"bpc": float(big_bpc), "loss": float(big_bpc * math.log(2))}}

    def describe_split(self, split):
        return {"documents": len(self.splits[split]), "characters": len(self.ids[split])}


__all__ = ["CharLMDataModule", "StreamWindows", "encode", "decode", "bits_per_char"]
