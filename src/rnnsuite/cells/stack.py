"""`RecurrentStack`: Elman/LSTM/GRU, stacked and bidirectional, with two backends on one set of parameters.

- `backend="fused"` runs `torch.nn.RNN/LSTM/GRU` (cuDNN / oneDNN), packing variable-length batches.
- `backend="step"` runs the textbook equations in `equations.py` one time step at a time, masking
  padded steps so that padding never changes a result.

Both read the parameters of the same `torch.nn.RNNBase` module, so a test can prove they agree.
State follows torch: a tensor `h` of shape [layers * directions, batch, hidden], or `(h, c)` for LSTM.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .equations import elman_step, gru_step, lstm_step

FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
INITS = ("default", "orthogonal", "identity")


class RecurrentStack(nn.Module):
    def __init__(self, cell, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0,
                 nonlinearity="tanh", backend="fused", init="default", forget_bias=None, init_gain=1.0):
        super().__init__()
        if cell not in FUSED:
            raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(FUSED)}")
        if backend not in ("fused", "step"):
            raise ValueError(f"unknown backend {backend!r}; choose 'fused' or 'step'")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
        if init == "identity":
            if cell != "rnn":
                raise ValueError("init=identity (IRNN, Le et al. 2015) applies to cell=rnn only")
            nonlinearity = "relu"
        self.cell, self.backend = cell, backend
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.num_directions = 2 if bidirectional else 1
        self.dropout, self.nonlinearity = float(dropout), nonlinearity
        kwargs = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = FUSED[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True,
                               bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0,
                               **kwargs)
        self.reset_parameters(init, forget_bias, init_gain)

    @property
    def output_size(self):
        return self.hidden_size * self.num_directions

    # ------------------------------------------------------------------ initialisation
    def reset_parameters(self, init="default", forget_bias=None, init_gain=1.0):
        """Weight initialisation is part of the cell: the seeds' cure for vanishing gradients. `init_gain`
        scales the recurrent matrices after the scheme (> 1: the large init that makes gradients explode)."""
        H = self.hidden_size
        if init != "default":
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias"):
                    nn.init.zeros_(p)
                elif name.startswith("weight_hh"):
                    for block in p.data.split(H, dim=0):
                        if init == "identity":
                            block.copy_(torch.eye(H))
                        else:
                            nn.init.orthogonal_(block)
                elif init == "identity":
                    nn.init.normal_(p, std=0.001)
                else:
                    nn.init.xavier_uniform_(p)
        if forget_bias is not None:
            if self.cell != "lstm":
                raise ValueError("forget_bias applies to cell=lstm only")
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias"):
                    # torch's LSTM gate order is i, f, g, o; b_ih and b_hh add up, so split the value.
                    p.data[H:2 * H] = forget_bias / 2
        if init_gain != 1.0:
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("weight_hh"):
                        p.mul_(init_gain)
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, x, lengths=None, state=None):
        """x: [B, T, input]; lengths: [B] ints (optional); returns output [B, T, D*H] and final state."""
        if x.dim() != 3 or x.size(-1) != self.input_size:
            raise ValueError(f"expected input [batch, time, {self.input_size}], got {tuple(x.shape)}")
        if lengths is not None:
            lengths = torch.as_tensor(lengths)
            if self.backend == "fused":  # packing needs them on the CPU: the one copy to the host, made here
                lengths = lengths.cpu()
            # checked where they are on the CPU (on a GPU the step backend's masks need no copy, so no sync)
            if lengths.device.type == "cpu" and (int(lengths.min()) < 1 or int(lengths.max()) > x.size(1)):
                raise ValueError(f"lengths must lie in [1, {x.size(1)}], got {lengths.tolist()}")
        if self.backend == "fused":
            return self._fused(x, lengths, state)
        return self._stepwise(x, lengths, state)

    def _fused(self, x, lengths, state):
        if lengths is None:
            return self.rnn(x, state)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        return out, state

    def layer_params(self, layer, direction=0):
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        r = self.rnn
        return (getattr(r, "weight_ih" + sfx), getattr(r, "weight_hh" + sfx),
                getattr(r, "bias_ih" + sfx), getattr(r, "bias_hh" + sfx))

    def cell_step(self, x_t, state, layer=0, direction=0):
        """One textbook step of one layer and direction. state: h, or (h, c) for LSTM."""
        params = self.layer_params(layer, direction)
        if self.cell == "lstm":
            return lstm_step(x_t, state, *params)
        if self.cell == "gru":
            return gru_step(x_t, state, *params)
        return elman_step(x_t, state, *params, nonlinearity=self.nonlinearity)

    def init_state(self, batch_size, device=None, dtype=None):
        w = self.rnn.weight_hh_l0
        shape = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        h = torch.zeros(shape, device=device or w.device, dtype=dtype or w.dtype)
        return (h, h.clone()) if self.cell == "lstm" else h

    def _stepwise(self, x, lengths, state):
        B, T, _ = x.shape
        lstm = self.cell == "lstm"
        if state is None:
            state = self.init_state(B, x.device, x.dtype)
        h0, c0 = state if lstm else (state, None)
        mask = None
        if lengths is not None:
            mask = (torch.arange(T, device=x.device)[None, :] < lengths.to(x.device)[:, None])[..., None]
        layer_in, final_h, final_c = x, [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                s = (h0[k], c0[k]) if lstm else h0[k]
                steps = [None] * T
                for t in (range(T) if d == 0 else reversed(range(T))):
                    new = self.cell_step(layer_in[:, t], s, layer, d)
                    if mask is not None:  # padded steps keep the state and emit zeros, as packing does
                        m = mask[:, t]
                        new = tuple(torch.where(m, a, b) for a, b in zip(new, s)) if lstm else torch.where(m, new, s)
                    s = new
                    h = s[0] if lstm else s
                    steps[t] = h * mask[:, t] if mask is not None else h
                outs.append(torch.stack(steps, 1))
                final_h.append(s[0] if lstm else s)
                if lstm:
                    final_c.append(s[1])
            layer_in = torch.cat(outs, -1) if len(outs) > 1 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        h_n = torch.stack(final_h, 0)
        return layer_in, ((h_n, torch.stack(final_c, 0)) if lstm else h_n)

    # ------------------------------------------------------------------ incremental generation
    def step(self, x_t, state=None):
        """Advance a unidirectional stack by one time step: O(1) work per step, state carried by the caller.

        x_t: [B, input]; returns (output [B, H], new state).
        """
        if self.num_directions != 1:
            raise ValueError("step() needs a unidirectional stack: a bidirectional one must see the whole input")
        lstm = self.cell == "lstm"
        if state is None:
            state = self.init_state(x_t.size(0), x_t.device, x_t.dtype)
        h0, c0 = state if lstm else (state, None)
        inp, hs, cs = x_t, [], []
        for layer in range(self.num_layers):
            s = self.cell_step(inp, (h0[layer], c0[layer]) if lstm else h0[layer], layer)
            h = s[0] if lstm else s
            hs.append(h)
            if lstm:
                cs.append(s[1])
            inp = F.dropout(h, self.dropout, self.training) if layer < self.num_layers - 1 else h
        h_n = torch.stack(hs, 0)
        return inp, ((h_n, torch.stack(cs, 0)) if lstm else h_n)

    def extra_repr(self):
        return f"cell={self.cell}, backend={self.backend}, dirs={self.num_directions}"


def final_hidden(state, num_layers, num_directions):
    """The top layer's final hidden state, directions concatenated: [B, D*H]."""
    h = state[0] if isinstance(state, tuple) else state
    top = h.view(num_layers, num_directions, h.size(1), h.size(2))[-1]
    return torch.cat(list(top), dim=-1)


def build_stack(cell_cfg, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0):
    """Build a stack from a `cell=` config group (type, backend, init, init_gain, nonlinearity, forget_bias)."""
    cfg = dict(cell_cfg)
    return RecurrentStack(cfg["type"], input_size, hidden_size, num_layers=num_layers,
                          bidirectional=bidirectional, dropout=dropout,
                          nonlinearity=cfg.get("nonlinearity", "tanh"), backend=cfg.get("backend", "fused"),
                          init=cfg.get("init", "default"), forget_bias=cfg.get("forget_bias"),
                          init_gain=cfg.get("init_gain", 1.0))


