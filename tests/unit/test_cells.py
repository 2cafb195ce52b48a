"""Step (textbook equations) and fused (torch.nn.RNN/LSTM/GRU) backends agree on one set of parameters."""
import itertools

import pytest
import torch

from rnnsuite.cells import RecurrentStack, elman_step, gru_step, lstm_step

CELLS = ["rnn", "lstm", "gru"]
TOL = dict(atol=1e-6, rtol=1e-6)


def twin_stacks(cell, layers, bidirectional, nonlinearity="tanh", seed=0):
    torch.manual_seed(seed)
    fused = RecurrentStack(cell, 5, 7, num_layers=layers, bidirectional=bidirectional,
                           nonlinearity=nonlinearity).double()
    step = RecurrentStack(cell, 5, 7, num_layers=layers, bidirectional=bidirectional, nonlinearity=nonlinearity,
                          backend="step").double()
    step.load_state_dict(fused.state_dict())
    return fused, step


def flat_state(state):
    return torch.cat([s.flatten() for s in state]) if isinstance(state, tuple) else state.flatten()


def run(stack, x, lengths, h0):
    out, state = stack(x, lengths, h0)
    loss = (out ** 2).sum() + (flat_state(state) ** 3).sum()
    grads = torch.autograd.grad(loss, [x] + list(stack.parameters()))
    return out, state, grads


@pytest.mark.parametrize("cell,layers,bidirectional,padded",
                         list(itertools.product(CELLS, [1, 2, 3], [False, True], [False, True])))
def test_step_equals_fused(cell, layers, bidirectional, padded):
    fused, step = twin_stacks(cell, layers, bidirectional)
    torch.manual_seed(1)
    x = torch.randn(4, 6, 5, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 3, 1, 5]) if padded else None
    D = 2 if bidirectional else 1
    h = torch.randn(layers * D, 4, 7, dtype=torch.float64)
    h0 = (h, torch.randn_like(h)) if cell == "lstm" else h
    out_f, st_f, g_f = run(fused, x, lengths, h0)
    out_s, st_s, g_s = run(step, x, lengths, h0)
    torch.testing.assert_close(out_s, out_f, **TOL)
    torch.testing.assert_close(flat_state(st_s), flat_state(st_f), **TOL)
    for a, b in zip(g_s, g_f):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("cell", CELLS)
def test_padding_never_changes_a_result(cell):
    """A sequence gives the same outputs and final state alone as it does padded inside a batch."""
    for backend in ("fused", "step"):
        torch.manual_seed(0)
        stack = RecurrentStack(cell, 3, 4, num_layers=2, bidirectional=True, backend=backend).double().eval()
        x = torch.randn(2, 7, 3, dtype=torch.float64)
        out_b, st_b = stack(x, torch.tensor([7, 4]))
        out_1, st_1 = stack(x[1:, :4], torch.tensor([4]))
        torch.testing.assert_close(out_b[1, :4], out_1[0])
        assert out_b[1, 4:].abs().max() == 0  # padded steps emit zeros, as packing does
        torch.testing.assert_close(flat_state(tuple(s[:, 1] for s in st_b) if cell == "lstm" else st_b[:, 1]),
                                   flat_state(tuple(s[:, 0] for s in st_1) if cell == "lstm" else st_1[:, 0]))


def test_relu_rnn_and_identity_init():
    fused, step = twin_stacks("rnn", 2, False, nonlinearity="relu")
    x = torch.randn(3, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(step(x)[0], fused(x)[0], **TOL)
    irnn = RecurrentStack("rnn", 4, 6, init="identity")
    assert irnn.nonlinearity == "relu"
    torch.testing.assert_close(irnn.rnn.weight_hh_l0, torch.eye(6))
    assert irnn.rnn.bias_ih_l0.abs().max() == 0
    with pytest.raises(ValueError, match="cell=rnn only"):
        RecurrentStack("lstm", 4, 6, init="identity")


def test_orthogonal_and_forget_bias():
    s = RecurrentStack("lstm", 4, 6, init="orthogonal", forget_bias=1.0)
    for block in s.rnn.weight_hh_l0.split(6):
        torch.testing.assert_close(block @ block.T, torch.eye(6), atol=1e-5, rtol=0)
    total = s.rnn.bias_ih_l0 + s.rnn.bias_hh_l0
    torch.testing.assert_close(total[6:12], torch.ones(6))  # forget gate: i, [f], g, o
    assert total[:6].abs().max() == 0


@pytest.mark.parametrize("cell", CELLS)
def test_incremental_step_matches_full_sequence(cell):
    """Generating one step at a time with carried state gives the same outputs as one call on the sequence."""
    torch.manual_seed(0)
    stack = RecurrentStack(cell, 3, 5, num_layers=2).double().eval()
    x = torch.randn(2, 8, 3, dtype=torch.float64)
    full, final = stack(x)
    state, outs = None, []
    for t in range(8):
        o, state = stack.step(x[:, t], state)
        outs.append(o)
    torch.testing.assert_close(torch.stack(outs, 1), full)
    torch.testing.assert_close(flat_state(state), flat_state(final))


def test_textbook_equations_by_hand():
    """The step functions are the textbook formulas, checked on scalars worked out by hand."""
    one = torch.ones(1, 1, dtype=torch.float64)
    h = elman_step(one, 0 * one, 0.5 * one, 2 * one, 0.1 * one[0], 0 * one[0])
    torch.testing.assert_close(h, torch.tanh(torch.tensor([[0.6]], dtype=torch.float64)))
    # LSTM with all pre-activations 0: i = f = o = 0.5, g = 0 -> c = 0.5 c_prev, h = 0.5 tanh(c)
    w = torch.zeros(4, 1, dtype=torch.float64)
    b = torch.zeros(4, dtype=torch.float64)
    h2, c2 = lstm_step(one, (one, 2 * one), w, w, b, b)
    torch.testing.assert_close(c2, one)
    torch.testing.assert_close(h2, 0.5 * torch.tanh(one))
    # GRU with all pre-activations 0: z = 0.5, n = 0 -> h = 0.5 h_prev
    w3 = torch.zeros(3, 1, dtype=torch.float64)
    b3 = torch.zeros(3, dtype=torch.float64)
    torch.testing.assert_close(gru_step(one, 4 * one, w3, w3, b3, b3), 2 * one)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="unknown cell"):
        RecurrentStack("transformer", 3, 4)
    s = RecurrentStack("gru", 3, 4)
    with pytest.raises(ValueError, match="expected input"):
        s(torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match="lengths must lie"):
        s(torch.randn(2, 5, 3), torch.tensor([5, 0]))
    with pytest.raises(ValueError, match="unidirectional"):
        RecurrentStack("gru", 3, 4, bidirectional=True).step(torch.randn(2, 3))


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_init_gain_scales_each_orthogonal_recurrent_block_to_that_spectral_norm(cell):
    stack = RecurrentStack(cell, 3, 16, num_layers=2, init="orthogonal", init_gain=2.5)
    for name, p in stack.rnn.named_parameters():
        if name.startswith("weight_hh"):
            for block in p.detach().split(16):
                torch.testing.assert_close(torch.linalg.svdvals(block), torch.full((16,), 2.5))
