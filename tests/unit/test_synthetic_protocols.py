"""The papers' protocols of the synthetic probes: Hochreiter & Schmidhuber's adding problem, checked sequence by
sequence against their description, and training splits drawn anew each epoch."""
import torch

from rnnsuite.tasks.synthetic.data import AddingDataModule, CopyDataModule, adding_problem


def test_hochreiter_schmidhuber_adding_problem_follows_their_description():
    T, n = 60, 400
    x, y = adding_problem(n, T, seed=3, variant="hochreiter")
    assert x.shape == (n, T + T // 10, 2)
    lengths = []
    for i in range(n):
        real = (x[i] != 0).any(-1).nonzero().flatten()
        start = int(real[0])            # left padding: zero pairs before the sequence
        assert (x[i, :start] == 0).all()
        seq = x[i, start:]
        lengths.append(len(seq))
        values, markers = seq[:, 0], seq[:, 1]
        assert values.abs().max() <= 1
        marked = (markers == 1).nonzero().flatten().tolist()
        assert len(marked) == 2 and marked[0] < 10 and marked[1] < T // 2 - 1
        for end in (0, len(seq) - 1):   # the first and the last pair carry -1 unless marked
            assert markers[end] == (1 if end in marked else -1)
        assert set(markers.unique().tolist()) <= {-1.0, 0.0, 1.0}
        if 0 in marked:
            assert values[0] == 0       # H&S: X1 is 0 when the first pair is the marked one
        assert float(y[i]) == float(0.5 + (values[marked[0]] + values[marked[1]]) / 4)
    assert min(lengths) == T and max(lengths) == T + T // 10  # lengths drawn from T .. T + T/10


def test_a_fresh_split_each_epoch_is_new_and_reproducible():
    dm = AddingDataModule(seq_len=20, n_train=64, n_val=8, n_test=8, fresh_each_epoch=True)
    dm.setup()
    train = dm.datasets["train"]
    sampler = dm.train_sampler(train)
    sampler.set_epoch(0)
    epoch0 = torch.stack([train[i][0] for i in range(64)])
    fixed = AddingDataModule(seq_len=20, n_train=64, n_val=8, n_test=8)
    fixed.setup()
    assert torch.equal(epoch0, fixed.splits["train"][0])  # epoch 0 is the fixed split
    sampler.set_epoch(1)
    epoch1 = torch.stack([train[i][0] for i in range(64)])
    assert not torch.equal(epoch0, epoch1)
    assert not any(torch.equal(epoch1[i], v) for i in range(64) for v in dm.splits["val"][0])
    sampler.set_epoch(0)  # a run resumed in epoch 0 reads the same sequences again
    assert torch.equal(torch.stack([train[i][0] for i in range(64)]), epoch0)
    copy = CopyDataModule(seq_len=10, n_train=32, n_val=4, n_test=4, fresh_each_epoch=True)
    copy.setup()
    copy.datasets["train"].set_epoch(2)
    x, y = copy.datasets["train"][0]
    assert torch.equal(y[-10:], x[:10])  # still the copy task
