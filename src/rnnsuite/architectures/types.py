"""The classic RNN input/output types as generic modules around a `RecurrentStack`.

Tasks add only what is their own (embeddings, heads, losses); recurrence, packing, pooling, bridging
and decoding live here.
"""
import random

import torch
from torch import nn

from ..cells import RecurrentStack, final_hidden


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
    """One-to-many: a vector sets the initial state (`init`), is fed at every step (`input`), or both.

    The decoder stack's input size must be `token_size + vec_size` when the vector is fed as input.
    """

    def __init__(self, stack: RecurrentStack, vec_size, mode="init"):
        super().__init__()
        if mode not in ("init", "input", "both"):
            raise ValueError(f"unknown mode {mode!r}; choose init, input or both")
        if stack.num_directions != 1:
            raise ValueError("a generating decoder must be unidirectional")
        self.stack, self.mode, self.vec_size = stack, mode, vec_size
        self.bridge = Bridge(vec_size, stack) if mode in ("init", "both") else None
        self.output_size = stack.output_size

    def init_state(self, vec):
        return self.bridge(vec) if self.bridge is not None else self.stack.init_state(vec.size(0))

    def _inputs(self, vec, x):
        if self.mode == "init":
            return x
        v = vec[:, None, :].expand(-1, x.size(1), -1) if x.dim() == 3 else vec
        return torch.cat([x, v], -1)

    def forward(self, vec, x, lengths=None):
        """Teacher forcing: x [B, T, token_size] are the (embedded) previous outputs."""
        return self.stack(self._inputs(vec, x), lengths, self.init_state(vec))

    def step(self, vec, x_t, state):
        return self.stack.step(self._inputs(vec, x_t), state)


class EncoderDecoder(nn.Module):
    """N-to-M: an encoder reads the whole source; a bridge turns its summary into the decoder's state;
    the decoder generates from <bos> until <eos>.

    - `embed_target(y)`: previous outputs (token ids, or values) -> decoder inputs [.., E]
    - `readout(h)`: decoder output (with attention context, when used) -> prediction (logits or values)
    - `feedback(pred)`: prediction -> next input when not teacher-forced (argmax for tokens)
    - `attention`: optional module `(query [B, H] or [B, T, H], memory [B, S, M], mask [B, S]) ->
      (context [B, (T,) M], weights [B, (T,) S])` (see `attention.Attention`); the readout then sees
      `[h; context]`, so `readout` must take H + M features.
    - `attention_input=False` (Luong et al. 2015): the context is computed from the current decoder output h_t.
      `attention_input=True` (Bahdanau et al. 2015): the context is computed from the previous state s_{t-1}
      and also fed into the decoder with the embedded previous output, so the decoder stack's input size must
      be E + M. That makes training step-by-step, so it is slower than the Luong wiring.
    """

    def __init__(self, encoder: RecurrentStack, decoder: RecurrentStack, embed_target, readout,
                 feedback=None, attention=None, attention_input=False):
        super().__init__()
        if decoder.num_directions != 1:
            raise ValueError("the decoder must be unidirectional")
        if attention_input and attention is None:
            raise ValueError("attention_input=True (Bahdanau wiring) needs an attention module")
        self.attention_input = attention_input
        self.encoder, self.decoder = encoder, decoder
        self.bridge = Bridge(encoder.output_size, decoder)
        self.embed_target, self.readout, self.attention = embed_target, readout, attention
        self.feedback = feedback or (lambda pred: pred.argmax(-1))

    def encode(self, src, src_lengths=None):
        memory, state = self.encoder(src, src_lengths)
        summary = final_hidden(state, self.encoder.num_layers, self.encoder.num_directions)
        mask = length_mask(src_lengths, src.size(1), src.device) if src_lengths is not None else None
        state = {"rnn": self.bridge(summary), "memory": memory, "mask": mask}
        if self.attention is not None and hasattr(self.attention, "keys"):
            state["keys"] = self.attention.keys(memory)  # the memory-side projection, once per source
        return state

    def _attend(self, query, state):
        keys = {"keys": state["keys"]} if "keys" in state else {}
        return self.attention(query, state["memory"], state["mask"], **keys)

    def _read(self, h, state):
        """h: [B, T, H] decoder outputs -> predictions, attention weights [B, T, S] (or None)."""
        if self.attention is None:
            return self.readout(h), None
        ctx, w = self._attend(h, state)  # all T queries against the memory in one batched product
        return self.readout(torch.cat([h, ctx], -1)), w

    def forward(self, src, src_lengths, tgt_in, teacher_forcing=1.0):
        """tgt_in: [B, T] previous outputs starting with <bos> (or [B, T, F] values). Returns predictions."""
        state = self.encode(src, src_lengths)
        if teacher_forcing >= 1.0 and not self.attention_input:  # inputs all known: one fused call
            h, _ = self.decoder(self.embed_target(tgt_in), None, state["rnn"])
            return self._read(h, state)[0]
        preds, y = [], tgt_in[:, 0]
        for t in range(tgt_in.size(1)):  # per step (scheduled sampling / Bahdanau): gold or own previous output
            if t > 0:  # random() < 1.0 always holds, so teacher_forcing=1 always feeds the gold
                y = tgt_in[:, t] if random.random() < teacher_forcing else self.feedback(preds[-1]).detach()
            pred, state = self.step(y, state)
            preds.append(pred)
        return torch.stack(preds, 1)

    def step(self, y_prev, state):
        """One decoding step: y_prev [B] (or [B, F]) -> prediction [B, ...], new state. For greedy/beam search.

        With attention, `state["attention"]` holds this step's weights [B, S] (for heat-maps)."""
        if self.attention_input:  # Bahdanau: attend from the previous state, feed the context in
            prev = state["rnn"][0] if isinstance(state["rnn"], tuple) else state["rnn"]
            ctx, w = self._attend(prev[-1], state)
            h, rnn = self.decoder.step(torch.cat([self.embed_target(y_prev), ctx], -1), state["rnn"])
            return self.readout(torch.cat([h, ctx], -1)), dict(state, rnn=rnn, attention=w)
        h, rnn = self.decoder.step(self.embed_target(y_prev), state["rnn"])
        state = dict(state, rnn=rnn)
        pred, w = self._read(h[:, None], state)
        if w is not None:
            state["attention"] = w[:, 0]
        return pred[:, 0], state
