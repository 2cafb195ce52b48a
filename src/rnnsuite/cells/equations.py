"""The textbook cell equations, one function per cell.

The parameter layout is torch's (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, gates stacked
in torch's order), so the same tensors drive both these equations and the fused kernels.
"""
import torch
import torch.nn.functional as F


def elman_step(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """h_t = tanh(W_x x_t + W_h h_{t-1} + b)."""
    pre = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_step(x, state, w_ih, w_hh, b_ih, b_hh):
    """i, f, o = sigmoid(...); g = tanh(...); c_t = f c_{t-1} + i g; h_t = o tanh(c_t)."""
    h, c = state
    gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """r, z = sigmoid(...); n = tanh(W_in x + r (W_hn h + b_hn)); h_t = (1 - z) n + z h_{t-1}."""
    xr, xz, xn = F.linear(x, w_ih, b_ih).chunk(3, dim=-1)
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h
