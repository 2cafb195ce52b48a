"""Piano-roll frame t-1 -> cell stack (synced seq -> seq) -> one sigmoid per pitch for frame t.

The metric is the negative log-likelihood per time step of Boulanger-Lewandowski et al. 2012 and Chung et al.
2014: for each frame, the sum over pitches of the binary cross-entropy (nats), averaged over all frames of the
split (every frame of every chorale counts once; padding does not count).

`weight_noise` (Graves 2011; Chung et al. 2014 train with a fixed standard deviation of 0.075): each training step
computes its loss and gradient at the weights plus fresh Gaussian noise, and the optimiser updates the clean
weights; validation and test score the clean weights.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnsuite.architectures import SeqToSeq, length_mask
from rnnsuite.cells import build_stack
from rnnsuite.inputs import generation_args
from rnnsuite.training import TaskModule


class MusicRNN(TaskModule):
    task_name = "music"
    scores_any_split = True

    def __init__(self, num_pitches, cell, optim=None, monitor=None, hidden_size=128, num_layers=1,
                 dropout=0.2, weight_noise=0.0):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        self._clean = None  # the weights without noise, during a training step with weight_noise
        self.rnn = SeqToSeq(build_stack(cell, num_pitches, hidden_size, num_layers, False, dropout))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, num_pitches)

    def forward(self, inputs, lengths=None):
        h, _ = self.rnn(inputs, lengths)
        return self.head(self.drop(h))

    def on_train_batch_start(self, batch, batch_idx):
        if self.hparams.weight_noise:
            with torch.no_grad():
                self._clean = [p.detach().clone() for p in self.parameters()]
                for p in self.parameters():
                    p.add_(torch.randn_like(p), alpha=self.hparams.weight_noise)

    def on_after_backward(self):
        self._restore_clean()  # the gradient is the noisy weights'; the optimiser moves the clean ones

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self._restore_clean()  # in case a step skipped backward

    def _restore_clean(self):
        if self._clean is not None:
            with torch.no_grad():
                for p, clean in zip(self.parameters(), self._clean):
                    p.copy_(clean)
            self._clean = None

    def _step(self, batch, split):
        logits = self(batch["inputs"], batch["lengths"])
        mask = length_mask(batch["lengths"], logits.size(1), logits.device)
        bce = F.binary_cross_entropy_with_logits(logits, batch["targets"], reduction="none").sum(-1)
        frames = mask.sum()
        nll = (bce * mask).sum() / frames
        # logged with the frame count as weight: the epoch value is the split's exact NLL per time step
        self.log_split(split, {"loss": nll, "nll": nll}, batch_size=batch["frames"])
        return nll

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(self, length=64, temperature=1.0, seed=0, prime=None):
        """Sample `length` frames, one step at a time with carried state: bool [length, P]. `prime` (bool
        [T, P] over the model's pitches) is read into the state first; the sample continues it."""
        length, temperature = generation_args(length, temperature, "time steps")
        was_training = self.training
        self.eval()
        gen = torch.Generator(device=self.device).manual_seed(int(seed))
        frame = torch.zeros(1, self.hparams.num_pitches, device=self.device)  # the start frame
        state, frames = None, []
        for known in (prime if prime is not None else []):
            _, state = self.rnn.step(frame, state)
            frame = torch.as_tensor(known, dtype=torch.float32, device=self.device)[None]
        for _ in range(int(length)):
            h, state = self.rnn.step(frame, state)
            p = torch.sigmoid(self.head(h) / temperature)
            frame = torch.bernoulli(p, generator=gen)
            frames.append(frame[0].bool().cpu())
        self.train(was_training)
        return torch.stack(frames).numpy()

    def full_roll(self, frames):
        """Frames over the model's pitch range -> [T, 128] MIDI pitches."""
        st = self.data_state
        out = np.zeros((len(frames), 128), dtype=bool)
        out[:, st["low"]: st["high"] + 1] = frames
        return out

    def examples(self, datamodule, n=5):
        from .render import describe
        return describe(self.full_roll(self.generate(16, seed=0)), self.data_state["resolution"])

    def extra_results(self, datamodule, run_dir):
        from .render import plot_roll, write_midi
        roll = self.full_roll(self.generate(64, seed=0))
        res = self.data_state["resolution"]
        midi = write_midi(roll, run_dir / "sample.mid", res)
        png = plot_roll(roll, run_dir / "sample_roll.png", res, "generated (64 steps)")
        return {"test_chorales": datamodule.splits["test"]["ids"],
                "nll_definition": "per time step: sum over pitches of binary cross-entropy (nats), "
                                  "averaged over all frames of the split",
                "sample_midi": str(midi), "images": {"sample_roll": png}}
