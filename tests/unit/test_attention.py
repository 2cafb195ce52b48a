"""Attention (additive / dot / general) and its two wirings in EncoderDecoder (Luong, Bahdanau)."""
import pytest
import torch
from torch import nn

from rnnsuite.architectures import Attention, EncoderDecoder, build_attention, length_mask
from rnnsuite.cells import RecurrentStack


@pytest.mark.parametrize("kind", ["additive", "dot", "general", "bahdanau", "luong"])
def test_weights_are_a_distribution_over_real_positions(kind):
    torch.manual_seed(0)
    att = Attention(kind, 8, 8)
    mem = torch.randn(3, 5, 8)
    mask = length_mask(torch.tensor([5, 3, 1]), 5)
    ctx, w = att(torch.randn(3, 8), mem, mask)
    assert ctx.shape == (3, 8) and w.shape == (3, 5)
    assert torch.allclose(w.sum(-1), torch.ones(3))
    assert (w[~mask] == 0).all()
    # the context is the weighted mean of the memory
    assert torch.allclose(ctx, (w[..., None] * mem).sum(1), atol=1e-6)
    # a row with one real position puts all its weight there
    assert torch.allclose(w[2, 0], torch.tensor(1.0))


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_many_queries_at_once_equal_one_at_a_time(kind):
    torch.manual_seed(1)
    att = Attention(kind, 6, 6 if kind == "dot" else 10)
    mem, q = torch.randn(2, 4, att.memory_size), torch.randn(2, 7, 6)
    mask = length_mask(torch.tensor([4, 2]), 4)
    ctx, w = att(q, mem, mask, keys=att.keys(mem))
    for t in range(7):
        c1, w1 = att(q[:, t], mem, mask)
        assert torch.allclose(ctx[:, t], c1, atol=1e-6) and torch.allclose(w[:, t], w1, atol=1e-6)


def test_bad_kinds_and_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="unknown attention"):
        Attention("cosine", 4, 4)
    with pytest.raises(ValueError, match="query size == memory size"):
        Attention("dot", 4, 8)
    assert build_attention("none", 4, 4) is None and build_attention(None, 4, 4) is None


def _seq2seq(cell, kind, attention_input, V=11, E=6, H=8):
    enc = RecurrentStack(cell, E, H, bidirectional=True)
    dec = RecurrentStack(cell, E + (2 * H if attention_input else 0), H, num_layers=2)
    att = build_attention(kind, H, 2 * H)
    emb = nn.Embedding(V, E)
    readout = nn.Linear(H + (2 * H if att is not None else 0), V)
    model = EncoderDecoder(enc, dec, emb, readout, attention=att, attention_input=attention_input)
    model.src_embed = nn.Embedding(V, E)
    return model.eval()


@pytest.mark.parametrize("cell,kind,attention_input", [("lstm", None, False), ("gru", "general", False),
                                                       ("lstm", "additive", True), ("rnn", "dot", False),
                                                       ("gru", "bahdanau", True)])
def test_teacher_forced_forward_equals_step_by_step(cell, kind, attention_input):
    torch.manual_seed(2)
    kind_ok = kind if kind != "dot" else None  # dot needs H == 2H: covered by the attention tests above
    m = _seq2seq(cell, kind_ok, attention_input)
    src, lengths = torch.randint(4, 11, (3, 6)), torch.tensor([6, 4, 2])
    tgt = torch.randint(4, 11, (3, 5))
    with torch.no_grad():
        full = m(m.src_embed(src), lengths, tgt)
        state = m.encode(m.src_embed(src), lengths)
        steps = []
        for t in range(5):
            pred, state = m.step(tgt[:, t], state)
            steps.append(pred)
            if kind_ok is not None:
                w = state["attention"]
                assert torch.allclose(w.sum(-1), torch.ones(3), atol=1e-5)
                assert (w[~length_mask(lengths, 6)] == 0).all()
    assert torch.allclose(full, torch.stack(steps, 1), atol=1e-5)


@pytest.mark.parametrize("attention_input", [False, True])
def test_padding_the_source_changes_nothing(attention_input):
    torch.manual_seed(3)
    m = _seq2seq("gru", "additive", attention_input)
    src, tgt = torch.randint(4, 11, (1, 4)), torch.randint(4, 11, (1, 5))
    padded = torch.cat([src, torch.zeros(1, 3, dtype=torch.long)], 1)
    with torch.no_grad():
        a = m(m.src_embed(src), torch.tensor([4]), tgt)
        b = m(m.src_embed(padded), torch.tensor([4]), tgt)
    assert torch.allclose(a, b, atol=1e-5)


def test_bahdanau_wiring_needs_an_attention_module():
    enc, dec = RecurrentStack("gru", 4, 4), RecurrentStack("gru", 4, 4)
    with pytest.raises(ValueError, match="needs an attention"):
        EncoderDecoder(enc, dec, nn.Embedding(5, 4), nn.Linear(4, 5), attention_input=True)


def test_attention_learns_to_copy_where_no_attention_struggles():
    """Copying a 6-token sequence: with attention the decoder looks the token up; a 4-unit bottleneck
    without attention cannot hold six tokens. A hundred-odd steps separate them clearly."""
    def train(kind):
        torch.manual_seed(0)
        V, E, H, T = 8, 8, 4, 6
        enc = RecurrentStack("gru", E, H, bidirectional=True)
        dec = RecurrentStack("gru", E, H)
        att = build_attention(kind, H, 2 * H)
        m = EncoderDecoder(enc, dec, nn.Embedding(V, E), nn.Linear(H + (2 * H if att else 0), V), attention=att)
        src_emb = nn.Embedding(V, E)
        opt = torch.optim.Adam(list(m.parameters()) + list(src_emb.parameters()), lr=0.02)
        for _ in range(120):
            x = torch.randint(2, V, (32, T))
            tgt_in = torch.cat([torch.ones(32, 1, dtype=torch.long), x[:, :-1]], 1)  # 1 plays <bos>
            loss = nn.functional.cross_entropy(m(src_emb(x), torch.full((32,), T), tgt_in).transpose(1, 2), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()
    assert train("general") < 0.75 * train(None)


@pytest.mark.parametrize("mode", ["init", "input", "both"])
def test_one_decoder_serves_vec_to_seq_with_attention(mode):
    """Captioning's wiring (a vector starts or feeds the decoder, attention over image regions) runs through the
    same Decoder as translation: the teacher-forced pass equals stepping, and the weights live in the state."""
    from rnnsuite.architectures import VecToSeq
    torch.manual_seed(4)
    V, E, H, M = 9, 5, 7, 6
    stack = RecurrentStack("lstm", E + (M if mode != "init" else 0), H)
    m = VecToSeq(stack, M, mode, embed=nn.Embedding(V, E), readout=nn.Linear(H + M, V),
                 attention=build_attention("additive", H, M)).eval()
    vec, memory, y = torch.randn(3, M), torch.randn(3, 4, M), torch.randint(0, V, (3, 5))
    with torch.no_grad():
        full, weights = m(vec, y, memory=memory)
        state, steps = m.start(vec, memory), []
        for t in range(5):
            pred, state = m.step(y[:, t], state)
            steps.append(pred)
            torch.testing.assert_close(state["attention"], weights[:, t])
    torch.testing.assert_close(torch.stack(steps, 1), full, atol=1e-5, rtol=1e-5)
    assert weights.shape == (3, 5, 4) and torch.allclose(weights.sum(-1), torch.ones(3, 5))
