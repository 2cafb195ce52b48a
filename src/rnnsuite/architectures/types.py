"""The classic RNN input/output types as generic modules around a `RecurrentStack`.

Tasks add only what is their own (embeddings, heads, losses); recurrence, packing, pooling, bridging
and decoding live here.
"""
import torch
from torch import nn

from ..cells import RecurrentStack, final_hidden
from .decoder import Decoder


def length_mask(lengths, T, device=None):
    """[B, T] bool: True on real steps."""
    return torch.arange(T, device=device)[None, :] < torch.as_tensor(lengths, device=device)[:, None]


class SeqToVec(nn.Module):
    """Many-to-one: a sequence in, one vector out (last / mean / max pooling that respects lengths)."""

    def __init__(self, stack: RecurrentStack, pooling="last"):
        super().__init__()
        if pooling not in ("last", "mean", "max"):
            raise ValueError(f"unknown pooling {pooling!r}; choose last, mean or max")
        self.stack, self.pooling = stack, pooling
        self.output_size = stack.output_size

    def forward(self, x, lengths=None):
        out, state = self.stack(x, lengths)
        if self.pooling == "last":  # forward direction's last real step, backward direction's first
            return final_hidden(state, self.stack.num_layers, self.stack.num_directions)
        if lengths is None:
            return out.mean(1) if self.pooling == "mean" else out.max(1).values
        mask = length_mask(lengths, x.size(1), x.device)[..., None]
        if self.pooling == "mean":
            return (out * mask).sum(1) / mask.sum(1).clamp_min(1)
        return out.masked_fill(~mask, float("-inf")).max(1).values


class SeqToSeq(nn.Module):
    """Many-to-many, synced: one output per input step. Carries state for stateful training/generation."""

    def __init__(self, stack: RecurrentStack):
        super().__init__()
        self.stack = stack
        self.output_size = stack.output_size

    def forward(self, x, lengths=None, state=None):
        return self.stack(x, lengths, state)

    def step(self, x_t, state=None):
        return self.stack.step(x_t, state)


class Bridge(nn.Module):
    """Maps a vector to a decoder's initial state (all layers). LSTM cells start at c = 0."""

    def __init__(self, in_size, stack: RecurrentStack):
        super().__init__()
        self.stack = stack
        self.proj = nn.Linear(in_size, stack.num_layers * stack.hidden_size)

    def forward(self, v):
        B, L, H = v.size(0), self.stack.num_layers, self.stack.hidden_size
        h = torch.tanh(self.proj(v)).view(B, L, H).transpose(0, 1).contiguous()
        return (h, torch.zeros_like(h)) if self.stack.cell == "lstm" else h


class VecToSeq(nn.Module):
    """One-to-many: a vector sets the decoder's initial state (`init`), is fed at every step (`input`), or both;
    the `Decoder` (optionally attending over a `memory`, e.g. image regions) writes the sequence.

    The stack's input size must be `embedded size + vec_size` when the vector is fed as input.
    """

    def __init__(self, stack: RecurrentStack, vec_size, mode="init", embed=None, readout=None, attention=None):
        super().__init__()
        if mode not in ("init", "input", "both"):
            raise ValueError(f"unknown mode {mode!r}; choose init, input or both")
        self.mode, self.vec_size = mode, vec_size
        self.decoder = Decoder(stack, embed, readout, attention)
        self.bridge = Bridge(vec_size, stack) if mode in ("init", "both") else None
        self.output_size = stack.output_size

    def start(self, vec, memory=None, mask=None):
        """The decoding state for a batch of vectors [B, vec_size] (and the memory attention reads)."""
        return self.decoder.start(rnn=self.bridge(vec) if self.bridge is not None else None, memory=memory,
                                  mask=mask, vec=vec if self.mode != "init" else None, batch_size=vec.size(0))

    def forward(self, vec, y_in, lengths=None, memory=None, mask=None):
        """Teacher forcing: y_in [B, T] are the previous outputs. Returns (predictions, attention weights)."""
        return self.decoder(y_in, self.start(vec, memory, mask), lengths)

    def step(self, y_prev, state):
        return self.decoder.step(y_prev, state)


class EncoderDecoder(nn.Module):
    """N-to-M: an encoder reads the whole source; a bridge turns its summary into the decoder's initial state;
    the `Decoder` generates from <bos> until <eos>, attending over the encoder's outputs when given an
    attention module.

    - `embed_target(y)`: previous outputs (token ids, or values) -> decoder inputs [.., E]
    - `readout(h)`: decoder output (with attention context, when used) -> prediction (logits or values)
    - `feedback(pred, gold_next)`: prediction -> next input when not teacher-forced (argmax for tokens)
    - `attention`: see `attention.Attention`; the readout then sees `[h; context]`, so it takes H + M features.
    - `attention_input`: the Bahdanau wiring (see `decoder`); the decoder stack's input size is then E + M.
    - `summary_input`: Cho et al. 2014's RNNencdec wiring: the encoder's summary c (its final states, the
      directions concatenated: S = encoder.output_size features) is also fed to every decoder step and to the
      readout, besides setting the initial state. The decoder stack's input size is then E + S (+ M), and the
      readout takes H (+ M) + S features. Without it the summary reaches the decoder only through its initial state.
    """

    def __init__(self, encoder: RecurrentStack, decoder: RecurrentStack, embed_target, readout,
                 feedback=None, attention=None, attention_input=False, summary_input=False):
        super().__init__()
        self.encoder = encoder
        self.summary_input = summary_input
        self.decoder = Decoder(decoder, embed_target, readout, attention, attention_input, feedback,
                               readout_vec=summary_input)
        self.bridge = Bridge(encoder.output_size, decoder)

    @property
    def attention(self):
        return self.decoder.attention

    def encode(self, src, src_lengths=None):
        memory, state = self.encoder(src, src_lengths)
        summary = final_hidden(state, self.encoder.num_layers, self.encoder.num_directions)
        mask = length_mask(src_lengths, src.size(1), src.device) if src_lengths is not None else None
        return self.decoder.start(rnn=self.bridge(summary), memory=memory, mask=mask,
                                  vec=summary if self.summary_input else None)

    def forward(self, src, src_lengths, tgt_in, teacher_forcing=1.0):
        """tgt_in: [B, T] previous outputs starting with <bos> (or [B, T, F] values). Returns predictions;
        teacher_forcing < 1 is scheduled sampling (see `decoder.scheduled_sampling`)."""
        return self.decoder(tgt_in, self.encode(src, src_lengths), teacher_forcing=teacher_forcing)[0]

    def step(self, y_prev, state):
        """One decoding step: y_prev [B] (or [B, F]) -> prediction [B, ...], new state. For greedy/beam search.

        With attention, `state["attention"]` holds this step's weights [B, S] (for heat-maps)."""
        return self.decoder.step(y_prev, state)
