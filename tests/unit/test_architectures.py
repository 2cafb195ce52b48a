"""Shapes, masking and gradient flow of the generic RNN types."""
import pytest
import torch
from torch import nn

from rnnsuite.architectures import EncoderDecoder, SeqToSeq, SeqToVec, VecToSeq
from rnnsuite.cells import RecurrentStack
from rnnsuite.decoding import greedy_decode, sample_next, strip_after_eos


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("backend", ["fused", "step"])
def test_seq_to_vec_pooling_ignores_padding(pooling, backend):
    torch.manual_seed(0)
    m = SeqToVec(RecurrentStack("lstm", 3, 4, bidirectional=True, backend=backend), pooling).double().eval()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    v = m(x, torch.tensor([6, 3]))
    assert v.shape == (2, 8)
    x2 = x.clone()
    x2[1, 3:] = 99.0  # garbage in the padding must not leak into the vector
    torch.testing.assert_close(m(x2, torch.tensor([6, 3])), v)
    torch.testing.assert_close(m(x[1:, :3], torch.tensor([3]))[0], v[1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradients_reach_the_first_step(cell):
    torch.manual_seed(0)
    for model, call in [
        (SeqToVec(RecurrentStack(cell, 3, 8, num_layers=2), "last"), lambda m, x: m(x, torch.tensor([20, 12]))),
        (SeqToSeq(RecurrentStack(cell, 3, 8)), lambda m, x: m(x)[0][:, -1]),
    ]:
        x = torch.randn(2, 20, 3, requires_grad=True)
        call(model, x).sum().backward()
        assert x.grad[:, 0].abs().sum() > 0


def test_vec_to_seq_modes():
    torch.manual_seed(0)
    for mode, in_size in [("init", 5), ("input", 5 + 6), ("both", 5 + 6)]:
        m = VecToSeq(RecurrentStack("gru", in_size, 7, num_layers=2), vec_size=6, mode=mode).double().eval()
        vec, x = torch.randn(3, 6, dtype=torch.float64), torch.randn(3, 4, 5, dtype=torch.float64)
        out, _ = m(vec, x)
        assert out.shape == (3, 4, 7)
        state, steps = m.start(vec), []
        for t in range(4):
            o, state = m.step(x[:, t], state)
            steps.append(o)
        torch.testing.assert_close(torch.stack(steps, 1), out)  # teacher-forced == stepwise
        vec2 = vec.clone()
        vec2[0] += 1
        assert not torch.allclose(m(vec2, x)[0][0], out[0])  # the vector matters


def tiny_translator(cell="gru", attention=None, V=9):
    torch.manual_seed(0)
    emb_s, emb_t = nn.Embedding(V, 4), nn.Embedding(V, 4)
    enc = RecurrentStack(cell, 4, 6, bidirectional=True)
    dec = RecurrentStack(cell, 4, 5, num_layers=2)
    model = EncoderDecoder(enc, dec, emb_t, nn.Linear(5, V), attention=attention)
    return emb_s, model


def test_encoder_decoder_teacher_forcing_equals_stepping():
    emb_s, m = tiny_translator("lstm")
    m.eval()
    src, tgt = torch.randint(3, 9, (2, 5)), torch.randint(3, 9, (2, 4))
    src_len = torch.tensor([5, 3])
    full = m(emb_s(src), src_len, tgt)
    assert full.shape == (2, 4, 9)
    stepped = m(emb_s(src), src_len, tgt, teacher_forcing=0.999999)  # stepwise path, all gold inputs (p ~ 1)
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)
    state = m.encode(emb_s(src), src_len)
    ids = greedy_decode(m.step, state, bos=1, eos=2, max_len=6, batch_size=2)
    assert ids.shape[0] == 2 and ids.shape[1] <= 6


def test_encoder_decoder_gradient_reaches_first_source_token():
    emb_s, m = tiny_translator("rnn")
    src = emb_s(torch.randint(3, 9, (2, 12))).detach().requires_grad_()
    m(src, torch.tensor([12, 12]), torch.randint(3, 9, (2, 3))).sum().backward()
    assert src.grad[:, 0].abs().sum() > 0


def test_greedy_stops_at_eos_and_sampling_rules():
    # A decoder that always says token 3 then <eos>=2 on the next step.
    def step(y, state):
        logits = torch.full((y.size(0), 5), -10.0)
        logits[:, 3 if state == 0 else 2] = 10.0
        return logits, state + 1
    ids = greedy_decode(step, 0, bos=1, eos=2, max_len=10, batch_size=3)
    assert ids.tolist() == [[3, 2]] * 3
    assert strip_after_eos(ids, 2) == [[3]] * 3
    logits = torch.tensor([[0.0, 5.0, 4.9, -1.0]])
    g = torch.Generator().manual_seed(0)
    draws = {int(sample_next(logits, 1.0, top_k=2, generator=g)) for _ in range(200)}
    assert draws == {1, 2}
    with pytest.raises(ValueError, match="temperature"):
        sample_next(logits, 0.0)


def test_scheduled_sampling_flips_one_coin_per_sequence_and_step():
    from rnnsuite.architectures import scheduled_sampling, teacher_forcing_at
    gold, own = torch.zeros(20000, 3), torch.ones(20000, 3, requires_grad=True)
    torch.manual_seed(0)
    mixed = scheduled_sampling(gold, own, 0.3)
    rows = mixed[:, 0]
    assert (mixed == rows[:, None]).all()  # a whole sequence's input is gold or own, never a mix of features
    assert float(rows.mean()) == pytest.approx(0.7, abs=0.015)  # own output with probability 1 - 0.3
    assert not mixed.requires_grad  # no gradient through the model's own, fed-back output
    state = torch.get_rng_state()
    assert scheduled_sampling(gold, own, 1.0) is gold and torch.equal(torch.get_rng_state(), state)  # no coin
    tokens = scheduled_sampling(torch.zeros(8, dtype=torch.long), torch.ones(8, dtype=torch.long), 0.0)
    assert tokens.tolist() == [1] * 8
    assert [teacher_forcing_at(e, 5, 1.0, 0.5) for e in range(6)] == [1.0, 0.875, 0.75, 0.625, 0.5, 0.5]


def test_encoder_decoder_feeds_its_own_prediction_under_scheduled_sampling():
    """At teacher_forcing=0 every input after the first is the model's own argmax: the same as greedy decoding
    from the same start (the gold inputs are never read)."""
    emb_s, m = tiny_translator("gru")
    m.eval()
    src, src_len = torch.randint(3, 9, (2, 5)), torch.tensor([5, 4])
    tgt = torch.randint(3, 9, (2, 4))
    tgt[:, 0] = 1
    with torch.no_grad():
        free = m(emb_s(src), src_len, tgt, teacher_forcing=0.0)
        other = m(emb_s(src), src_len, torch.cat([tgt[:, :1], torch.randint(3, 9, (2, 3))], 1), teacher_forcing=0.0)
        torch.testing.assert_close(free, other)
        state, y, steps = m.encode(emb_s(src), src_len), tgt[:, 0], []
        for _ in range(4):
            logits, state = m.step(y, state)
            steps.append(logits)
            y = logits.argmax(-1)
    torch.testing.assert_close(free, torch.stack(steps, 1))
