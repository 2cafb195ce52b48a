"""Character embedding -> unidirectional cell stack (synced seq -> seq) -> next-character logits.

Training is stateful truncated BPTT (Williams & Peng's TBPTT(k1, k2)): each batch is a window of k2 steps
over B parallel streams (see `data.StreamWindows`). The state carried in from the previous window is detached,
so gradients reach back at most k2 steps; the state after the window's first k1 steps is what the next window
starts from, so consecutive windows see one unbroken stream. Clipping is the Trainer's `gradient_clip_val`.

Generation feeds one character at a time through `RecurrentStack.step`, carrying the state: O(1) per
character, never a re-run of the prefix.
"""
import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from rnnsuite.architectures import SeqToSeq
from rnnsuite.atomic import write_text
from rnnsuite.cells import build_stack
from rnnsuite.decoding import sample_next
from rnnsuite.inputs import UserError, generation_args
from rnnsuite.training import TaskModule

from .data import UNK, decode, encode


def map_state(fn, state):
    """Apply fn to a cell state: one tensor (rnn, gru) or an (h, c) pair (lstm)."""
    return tuple(fn(s) for s in state) if isinstance(state, tuple) else fn(state)


class CharLM(TaskModule):
    task_name = "charlm"
    scores_any_split = True

    def __init__(self, vocab_size, cell, optim=None, monitor=None, embed_dim=64, hidden_size=256,
                 num_layers=2, dropout=0.1):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = SeqToSeq(build_stack(cell, embed_dim, hidden_size, num_layers, False, dropout))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        self.carry = {}  # split -> state at the start of that split's next window

    # ------------------------------------------------------------------ truncated BPTT
    def window_loss(self, batch, state):
        """Mean cross-entropy (nats) over the scored targets of one window, and the (detached) state to carry.

        tokens [B, k2 + 1]; the first `carry_at` (= k1) steps lead to the next window's start state; targets
        before `score_from` were scored by the previous window and only serve as context here.
        """
        tokens = batch["tokens"]
        x, y = tokens[:, :-1], tokens[:, 1:]
        k1, first = int(batch["carry_at"]), int(batch["score_from"])
        e = self.embed(x)
        h, carry = self.rnn(e[:, :k1], state=state)
        if k1 < x.size(1):  # the rest of the window continues from the carried point, with gradients
            h_rest, _ = self.rnn(e[:, k1:], state=carry)
            h = torch.cat([h, h_rest], 1)
        # under bf16/16-mixed: the scored softmax in float32 (the meta device of the device test has no autocast)
        with torch.autocast(h.device.type, enabled=False) if h.device.type != "meta" else contextlib.nullcontext():
            logits = self.head(self.drop(h[:, first:]).float())
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y[:, first:].reshape(-1))
        return loss, map_state(torch.Tensor.detach, carry), y[:, first:].numel()

    def _step(self, batch, split):
        state = None if batch["reset"] else self.carry.get(split)
        if state is not None and (state[0] if isinstance(state, tuple) else state).size(1) != batch["tokens"].size(0):
            state = None
        if state is not None:  # a state restored from a checkpoint may sit on another device
            state = map_state(lambda s: s.to(batch["tokens"].device), state)
        loss, self.carry[split], n = self.window_loss(batch, state)
        # every scored character weighs the same, so the epoch mean is the split's exact bits per character
        self.log_split(split, {"loss": loss, "bpc": loss / math.log(2)}, batch_size=n)
        return loss

    # A resumed run (rnn-train resume=...) continues the training streams from the state they had reached;
    # the datamodule restores the window position. Under DDP each process carries its own streams' state and
    # only rank 0's is saved, so there the streams restart from a zero state.
    def on_save_checkpoint(self, checkpoint):
        super().on_save_checkpoint(checkpoint)
        if "train" in self.carry and self.trainer.world_size == 1:
            checkpoint["charlm_train_state"] = self.carry["train"]

    def on_load_checkpoint(self, checkpoint):
        super().on_load_checkpoint(checkpoint)
        if "charlm_train_state" in checkpoint:
            self.carry["train"] = checkpoint["charlm_train_state"]

    def on_validation_epoch_start(self):
        for split in ("val", "val_raw", "val_avg"):  # the last two: callbacks.ema.select scores both weights
            self.carry.pop(split, None)

    def on_test_epoch_start(self):
        self.carry.pop("test", None)

    # ------------------------------------------------------------------ generation
    @property
    def chars(self):
        return self.data_state["chars"]

    def step(self, ids, state=None):
        """One character per row: ids [B] -> next-character logits [B, V], new state. O(1) per call."""
        h, state = self.rnn.step(self.embed(ids), state)
        logits = self.head(h)
        logits[:, UNK] = float("-inf")  # never emit the unknown-character id
        return logits, state

    @torch.no_grad()
    def generate(self, prime="", length=500, temperature=1.0, top_k=None, seed=0):
        """prime + `length` sampled characters. The prime is read step by step into the state, then each
        sampled character is fed back in."""
        length, temperature = generation_args(length, temperature, "characters")
        unknown = sorted({c for c in prime if c not in self.chars})
        if unknown:
            raise UserError(f"the prime has characters the model never saw in training: "
                            f"{', '.join(repr(c) for c in unknown)}; remove or replace them")
        was_training = self.training
        self.eval()
        start = prime or ("\n" if "\n" in self.chars else self.chars[0])  # an empty prime starts a new line
        gen = torch.Generator(device=self.device).manual_seed(int(seed))
        state, logits = None, None
        for i in encode(start, self.chars).to(self.device):
            logits, state = self.step(i.view(1), state)
        out = []
        for _ in range(int(length)):
            nxt = sample_next(logits, temperature, top_k, generator=gen)
            out.append(int(nxt))
            logits, state = self.step(nxt, state)
        self.train(was_training)
        return prime + decode(out, self.chars)

    # ------------------------------------------------------------------ people-facing
    def examples(self, datamodule, n=5):
        prime = next(iter(datamodule.splits["test"].values()))[:40]
        prime = "".join(c for c in prime if c in self.chars)
        return self.generate(prime, 300, temperature=0.8, seed=0).splitlines()

    def extra_results(self, datamodule, run_dir):
        sample = self.generate("ROMEO:" if all(c in self.chars for c in "ROMEO:") else "", 500,
                               temperature=0.8, seed=0)
        write_text(run_dir / "sample.txt", sample + "\n")
        return {"test_documents": sorted(datamodule.splits["test"]),
                "val_documents": sorted(datamodule.splits["val"]), "sample_500": sample}
