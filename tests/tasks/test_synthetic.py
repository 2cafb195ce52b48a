"""Adding problem: the generator's statistics, a real tiny run, and the gradient-norm-through-time probe."""
import json

import pytest
import torch

from rnnsuite.cells import RecurrentStack
from rnnsuite.training.diagnostics import grad_norm_through_time
from rnnsuite.tasks.synthetic.data import adding_problem
from tests.conftest import FAST, run_cli

# with pytest-xdist (--dist loadgroup): one worker takes this file and the contract's synthetic tests, so they
# share the session's fixture runs of synthetic
pytestmark = pytest.mark.xdist_group("synthetic")


def test_adding_problem_data():
    x, y = adding_problem(20000, 30, seed=1)
    assert x.shape == (20000, 30, 2) and (x[..., 1].sum(1) == 2).all()
    torch.testing.assert_close(y, (x[..., 0] * x[..., 1]).sum(1))
    assert float(((y - 1) ** 2).mean()) == pytest.approx(1 / 6, abs=0.01)  # the "always 1" baseline


def test_grad_norm_through_time_vanishes_for_a_contracting_rnn():
    torch.manual_seed(0)
    stack = RecurrentStack("rnn", 2, 16)
    with torch.no_grad():
        stack.rnn.weight_hh_l0.mul_(0.2)  # a contraction: gradients must shrink going back in time
    x = torch.randn(8, 40, 2)
    norms = grad_norm_through_time(stack, x, lambda h: h.sum())
    assert norms.shape == (40,) and norms[-1] > 0
    assert norms[0] < 1e-6 * norms[-1]
    assert all(norms[t] <= norms[t + 1] for t in range(39))


def test_synthetic_run_writes_plot_and_beats_nothing_silly(tmp_path):
    proc = run_cli("rnn-train", "task=synthetic", "cell=gru", "data.seq_len=12", "data.n_train=2000",
                   "data.n_val=200", "data.n_test=200", "trainer.max_epochs=4", *FAST, f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["baselines"]["predict_1"]["mse"] == pytest.approx(1 / 6, abs=0.04)
    assert res["test"]["mse"] < res["baselines"]["predict_1"]["mse"]  # T=12 is easy for a GRU
    assert (tmp_path / "grad_norm_through_time.png").is_file()
    assert set(res["grad_norm_first_over_last"]) == {"at initialisation", "trained"}


def test_copy_memory_data_and_its_memoryless_baseline():
    import math

    from rnnsuite.tasks.synthetic.data import copy_baseline, copy_memory
    x, y = copy_memory(500, 30, seed=0)
    assert x.shape == y.shape == (500, 50)
    assert torch.equal(y[:, -10:], x[:, :10]) and (x[:, :10] >= 1).all() and (x[:, :10] <= 8).all()
    assert (x[:, 39] == 9).all() and (x[:, 10:39] == 0).all() and (x[:, 40:] == 0).all()
    assert (y[:, :40] == 0).all()
    # the memoryless strategy: certain blanks, then a uniform guess over 8 symbols for the last 10 steps
    p = torch.full((500, 50, 9), 1e-12)
    p[:, :40, 0] = 1.0
    p[:, 40:, 1:] = 1 / 8
    ce = torch.nn.functional.nll_loss(p.log().transpose(1, 2), y)
    assert float(ce) == pytest.approx(copy_baseline(30), rel=1e-6) == pytest.approx(10 * math.log(8) / 50)
