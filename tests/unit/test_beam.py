"""Beam search: known best sequences, exhaustive search on tiny models, width 1 == greedy, batching."""
import itertools
import math

import pytest
import torch
from torch import nn

from rnnsuite.architectures import EncoderDecoder, build_attention
from rnnsuite.cells import RecurrentStack
from rnnsuite.decoding import beam_search, greedy_decode, length_penalty, reorder_state, strip_after_eos

BOS, EOS = 0, 1


def markov_step(table):
    """A decoder whose next-token distribution depends only on the previous token."""
    logp = torch.log(torch.as_tensor(table, dtype=torch.float))

    def step(y, state):
        return logp[y], state
    return step


# tokens: 0 <bos>, 1 <eos>, 2 A, 3 B, 4 C, 5 D, 6 E
TRAP = [[0, 0, .6, .4, 0, 0, 0],      # after <bos>: A is likelier than B ...
        [0, 1, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1 / 3, 1 / 3, 1 / 3],  # ... but A spreads its mass over C, D, E
        [0, 0, 0, 0, 1, 0, 0],        # while B is always followed by C
        [0, 1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0]]


def test_beam_finds_the_sequence_greedy_misses():
    step = markov_step(TRAP)
    greedy = strip_after_eos(greedy_decode(step, None, BOS, EOS, 10, 1), EOS)
    beam, score = beam_search(step, None, BOS, EOS, 10, 1, beam_size=2, return_scores=True)
    assert greedy == [[2, 4]]                       # A C <eos>: p = 0.2
    assert strip_after_eos(beam, EOS) == [[3, 4]]   # B C <eos>: p = 0.4, the best sequence
    assert score.item() == pytest.approx(math.log(0.4), abs=1e-5)


def prefix_model(V=4, seed=0):
    """A decoder whose logits depend on the whole prefix (and on which input row it decodes), so a state that
    is not reordered with its beam gives wrong answers. Returns (step_fn, initial state, exact logp fn)."""
    def logits_for(row, prefix):
        g = torch.Generator().manual_seed(hash((seed, row, tuple(prefix))) % (2 ** 31))
        z = torch.randn(V, generator=g) * 2
        z[BOS] = float("-inf")  # <bos> is never generated
        return torch.log_softmax(z, -1)

    def step(y, state):
        prefix = torch.cat([state["prefix"], y[:, None]], 1)
        rows = state["row"].tolist()
        out = torch.stack([logits_for(r, p[1:]) for r, p in zip(rows, prefix.tolist())])
        return out, dict(state, prefix=prefix)

    def init(B):
        return {"rnn": torch.zeros(1, B, 2), "row": torch.arange(B), "prefix": torch.empty(B, 0, dtype=torch.long),
                "memory": None}
    return step, init, logits_for


def brute_force(logits_for, row, V, max_len, alpha):
    """The best length-normalised sequence by enumerating every output up to max_len tokens."""
    best = (float("-inf"), None)
    words = range(2, V)
    for n in range(0, max_len + 1):
        for body in itertools.product(words, repeat=n):
            seqs = [list(body) + [EOS]] if n < max_len else [list(body)]
            for seq in seqs:
                lp = sum(logits_for(row, seq[:i])[tok].item() for i, tok in enumerate(seq))
                score = lp / length_penalty(float(len(seq)), alpha)
                best = max(best, (score, seq), key=lambda x: x[0])
    # sequences of max_len tokens that end with <eos>
    for body in itertools.product(words, repeat=max_len - 1):
        seq = list(body) + [EOS]
        lp = sum(logits_for(row, seq[:i])[tok].item() for i, tok in enumerate(seq))
        best = max(best, (lp / length_penalty(float(max_len), alpha), seq), key=lambda x: x[0])
    return best


@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_wide_beam_equals_exhaustive_search_per_row(alpha):
    V, L, B = 4, 4, 3
    step, init, logits_for = prefix_model(V)
    out, scores = beam_search(step, init(B), BOS, EOS, L, B, beam_size=32, alpha=alpha, return_scores=True)
    for row in range(B):
        score, seq = brute_force(logits_for, row, V, L, alpha)
        got = out[row].tolist()
        got = got[: got.index(EOS) + 1] if EOS in got else got
        assert got == seq
        assert scores[row].item() == pytest.approx(score, abs=1e-4)


def test_width_one_is_greedy():
    V, L, B = 5, 6, 4  # rows stop at <eos> or run to L: width 1 must reproduce both
    step, init, _ = prefix_model(V, seed=3)
    greedy = strip_after_eos(greedy_decode(step, init(B), BOS, EOS, L, B), EOS)
    beam = strip_after_eos(beam_search(step, init(B), BOS, EOS, L, B, beam_size=1), EOS)
    assert beam == greedy


def test_batched_equals_one_row_at_a_time():
    V, L, B = 5, 5, 3
    step, init, _ = prefix_model(V, seed=5)
    batched = strip_after_eos(beam_search(step, init(B), BOS, EOS, L, B, beam_size=3, alpha=0.6), EOS)
    for row in range(B):
        s = init(B)
        s = reorder_state(s, torch.tensor([row]))
        single = strip_after_eos(beam_search(step, s, BOS, EOS, L, 1, beam_size=3, alpha=0.6), EOS)
        assert single[0] == batched[row]


def test_reorder_state_follows_the_convention():
    h, c = torch.arange(6.).view(1, 3, 2), -torch.arange(6.).view(1, 3, 2)
    state = {"rnn": (h, c), "memory": torch.arange(3.).view(3, 1, 1), "mask": None}
    idx = torch.tensor([2, 2, 0])
    out = reorder_state(state, idx)
    assert out["rnn"][0][0, :, 0].tolist() == [4., 4., 0.] and out["rnn"][1][0, :, 0].tolist() == [-4., -4., 0.]
    assert out["memory"].flatten().tolist() == [2., 2., 0.] and out["mask"] is None
    assert reorder_state(h, idx)[0, :, 0].tolist() == [4., 4., 0.]


@pytest.mark.parametrize("kind,attention_input", [(None, False), ("general", False), ("additive", True)])
def test_on_an_encoder_decoder(kind, attention_input):
    """On a real (untrained) encoder-decoder: width 1 matches greedy, and beam scores are never below the
    greedy sequence's log-probability."""
    torch.manual_seed(0)
    V, E, H, B = 9, 5, 6, 4
    enc = RecurrentStack("lstm", E, H, bidirectional=True)
    dec = RecurrentStack("lstm", E + (2 * H if attention_input else 0), H)
    att = build_attention(kind, H, 2 * H)
    m = EncoderDecoder(enc, dec, nn.Embedding(V, E), nn.Linear(H + (2 * H if att else 0), V), attention=att,
                       attention_input=attention_input).eval()
    src = nn.Embedding(V, E)(torch.randint(2, V, (B, 5))).detach()
    lengths = torch.tensor([5, 3, 4, 1])
    state = m.encode(src, lengths)
    greedy = greedy_decode(m.step, state, BOS, EOS, 8, B)
    b1 = beam_search(m.step, m.encode(src, lengths), BOS, EOS, 8, B, beam_size=1)
    assert strip_after_eos(b1, EOS) == strip_after_eos(greedy, EOS)
    _, s5 = beam_search(m.step, m.encode(src, lengths), BOS, EOS, 8, B, beam_size=5, return_scores=True)
    _, s1 = beam_search(m.step, m.encode(src, lengths), BOS, EOS, 8, B, beam_size=1, return_scores=True)
    assert (s5 >= s1 - 1e-5).all()


def test_bad_width_is_an_error():
    with pytest.raises(ValueError, match="beam size"):
        beam_search(markov_step(TRAP), None, BOS, EOS, 5, 1, beam_size=0)
