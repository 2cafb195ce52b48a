"""The one generating decoder, with optional attention, and the one scheduled-sampling routine.

`Decoder` writes a sequence one output at a time from its own previous output. Every task that generates
through a unidirectional stack uses it: translation and forecasting through `EncoderDecoder`, captioning
through `VecToSeq`. At step t it reads

    x_t = [embed(y_{t-1}); vec (when a vector is fed at every step); context_t (Bahdanau wiring)]
    h_t = stack(x_t, state)
    prediction_t = readout([h_t; context_t])  (or readout(h_t) without attention)
                   with `readout_vec`: readout([h_t; (context_t;) vec])

A vector fed at every step and to the readout is Cho et al. 2014's RNN encoder-decoder (the "RNNencdec" of
Bahdanau et al. 2015): the encoder's summary c conditions every decoder step and every output, not only the
initial state, so it need not survive the whole target inside the decoder's state.

With attention (`attention.Attention`) over a memory [B, S, M] (source tokens, image regions), the context
is computed from h_t (Luong et al. 2015, `attention_input=False`) or from the previous state s_{t-1} and also
fed into the stack (Bahdanau et al. 2015, `attention_input=True`: the stack's input grows by M and training
runs step by step).

The decoding state is a dict, which `decoding.beam.reorder_state` knows how to reorder:
    "rnn"        the stack's state (h, or (h, c)), batch at dim 1
    "memory"     [B, S, M] or None;  "mask" [B, S] bool (True on real positions) or None
    "keys"       the attention's memory-side projection, computed once by `start`
    "vec"        [B, V] fed at every step, or None
    "attention"  after a step with attention: that step's weights [B, S] (for heat-maps)
"""
import torch
from torch import nn

from ..cells import RecurrentStack


def scheduled_sampling(gold, own, teacher_forcing):
    """The next decoder input under scheduled sampling (Bengio et al. 2015): for every sequence of the batch and
    at every step, an independent coin gives the gold previous output with probability `teacher_forcing` and
    the model's own prediction otherwise. The prediction is detached: no gradient flows through the choice,
    as with the sampled tokens of the paper. teacher_forcing >= 1 always feeds the gold (no coin is drawn)."""
    if teacher_forcing >= 1.0:
        return gold
    use_gold = torch.rand(gold.size(0), device=gold.device) < teacher_forcing
    return torch.where(use_gold.view(-1, *[1] * (gold.dim() - 1)), gold, own.detach())


def teacher_forcing_at(epoch, max_epochs, start=1.0, end=1.0):
    """The scheduled-sampling ratio of an epoch: linear from `start` at the first epoch to `end` at the last."""
    span = max(1, (max_epochs or 1) - 1)
    return start + (end - start) * min(1.0, epoch / span)


def argmax_feedback(pred, gold_next):
    """Token decoders feed back their most likely token."""
    return pred.argmax(-1)


class Decoder(nn.Module):
    """See the module docstring. `embed` maps previous outputs (token ids, or values) to the stack's input,
    `readout` maps [h; context] (or h) to a prediction, `feedback(pred, gold_next)` turns a prediction into
    the next input when the model feeds itself (default: argmax over a vocabulary). Both `embed` and `readout`
    default to the identity."""

    def __init__(self, stack: RecurrentStack, embed=None, readout=None, attention=None, attention_input=False,
                 feedback=None, readout_vec=False):
        super().__init__()
        if stack.num_directions != 1:
            raise ValueError("a generating decoder must be unidirectional")
        if attention_input and attention is None:
            raise ValueError("attention_input=True (Bahdanau wiring) needs an attention module")
        self.stack, self.attention, self.attention_input = stack, attention, attention_input
        self.readout_vec = readout_vec
        self.embed = embed if embed is not None else nn.Identity()
        self.readout = readout if readout is not None else nn.Identity()
        self.feedback = feedback or argmax_feedback

    def start(self, rnn=None, memory=None, mask=None, vec=None, batch_size=None):
        """The state before the first step: the stack's initial state (zeros when `rnn` is None), the memory
        to attend over (and its keys, computed once), and the vector fed at every step."""
        if rnn is None:
            B = batch_size or next(v.size(0) for v in (vec, memory) if v is not None)
            rnn = self.stack.init_state(B)
        state = {"rnn": rnn, "memory": memory, "mask": mask, "vec": vec}
        if self.attention is not None:
            if memory is None:
                raise ValueError("a decoder with attention needs a memory to attend over")
            state["keys"] = self.attention.keys(memory)
        return state

    def _attend(self, query, state):
        return self.attention(query, state["memory"], state["mask"], keys=state["keys"])

    def _readout(self, h, ctx, state):
        """readout([h; ctx; vec]) with the parts that this decoder uses (ctx None without attention)."""
        parts = [h] + ([ctx] if ctx is not None else [])
        if self.readout_vec:
            vec = state["vec"]
            parts.append(vec[:, None].expand(-1, h.size(1), -1) if h.dim() == 3 else vec)
        return self.readout(torch.cat(parts, -1) if len(parts) > 1 else h)

    def _read(self, h, state):
        """Stack outputs h [B, (T,) H] -> predictions, attention weights (None without attention)."""
        if self.attention is None:
            return self._readout(h, None, state), None
        ctx, w = self._attend(h, state)  # all T queries in one batched product when h is [B, T, H]
        return self._readout(h, ctx, state), w

    def _with_vec(self, x, state):
        vec = state.get("vec")
        if vec is None:
            return x
        return torch.cat([x, vec[:, None].expand(-1, x.size(1), -1) if x.dim() == 3 else vec], -1)

    def forward(self, y_in, state, lengths=None, teacher_forcing=1.0):
        """y_in: previous outputs [B, T] (ids) or [B, T, F] (values), starting with <bos> or the last observed
        value. Returns (predictions [B, T, ...], attention weights [B, T, S] or None).

        With every input known (teacher_forcing >= 1, Luong wiring) the stack runs as one fused call over
        the whole sequence; otherwise step by step, with `scheduled_sampling` choosing each input."""
        if teacher_forcing >= 1.0 and not self.attention_input:
            h, _ = self.stack(self._with_vec(self.embed(y_in), state), lengths, state["rnn"])
            return self._read(h, state)
        preds, weights, y = [], [], y_in[:, 0]
        for t in range(y_in.size(1)):
            if t > 0:
                y = scheduled_sampling(y_in[:, t], self.feedback(preds[-1], y_in[:, t]), teacher_forcing)
            pred, state = self.step(y, state)
            preds.append(pred)
            if "attention" in state:
                weights.append(state["attention"])
        return torch.stack(preds, 1), (torch.stack(weights, 1) if weights else None)

    def step(self, y_prev, state):
        """One step: y_prev [B] (or [B, F]) -> prediction [B, ...], new state. For greedy and beam search."""
        x = self.embed(y_prev)
        if self.attention_input:  # Bahdanau: attend from the previous state, feed the context in
            prev = state["rnn"][0] if isinstance(state["rnn"], tuple) else state["rnn"]
            ctx, w = self._attend(prev[-1], state)
            h, rnn = self.stack.step(torch.cat([self._with_vec(x, state), ctx], -1), state["rnn"])
            return self._readout(h, ctx, state), dict(state, rnn=rnn, attention=w)
        h, rnn = self.stack.step(self._with_vec(x, state), state["rnn"])
        state = dict(state, rnn=rnn)
        pred, w = self._read(h, state)
        if w is not None:
            state["attention"] = w
        return pred, state
