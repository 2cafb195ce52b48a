"""The `cosine_budget` and `exp_budget` LR schedules: warmup, then a cosine to 0 (or an exponential to a set
fraction) that ends when the first budget (steps or trainer.max_time) runs out."""
import math

import pandas as pd
import pytest

from rnnsuite.training.base import budget_decay
from tests.conftest import FAST, run_cli


def test_budget_decay_follows_the_budget_that_ends_first():
    assert [budget_decay(s, 4, 100) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert budget_decay(4, 4, 100) == 1.0
    assert budget_decay(52, 4, 100) == pytest.approx(0.5)                    # half the steps, no clock
    assert budget_decay(10, 4, 100, time_used=0.5) == pytest.approx(0.5)     # half the time, few steps
    assert budget_decay(52, 4, 100, time_used=0.25) == pytest.approx(0.5)    # the further budget wins
    assert budget_decay(90, 4, 100, time_used=1.2) == 0.0
    assert budget_decay(100, 4, 100) == pytest.approx(0.0, abs=1e-12)
    assert budget_decay(28, 4, 100, time_used=0.0) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_exp_budget_halves_the_rate_every_quarter_of_the_budget():
    assert budget_decay(2, 4, 100, shape="exp") == 0.75                       # the same warmup
    assert budget_decay(28, 4, 100, shape="exp") == pytest.approx(0.5)       # a quarter of the steps: 16 ** -1/4
    assert budget_decay(10, 4, 100, time_used=0.5, shape="exp") == pytest.approx(0.25)   # half the time
    assert budget_decay(100, 4, 100, shape="exp") == pytest.approx(1 / 16)
    assert budget_decay(10, 4, 100, time_used=1.5, shape="exp", end=0.01) == pytest.approx(0.01)


def test_lr_reaches_zero_when_max_time_stops_training(tmp_path):
    run = tmp_path / "run"
    r = run_cli("rnn-train", "task=charlm", "data=charlm_fixture", *FAST, "model.hidden_size=16",
                "optim.scheduler=cosine_budget", "optim.warmup_steps=2", "trainer.max_epochs=100000",
                "trainer.max_time=00:00:00:05", "callbacks.early_stopping=null", "trainer.precision=32-true",
                "callbacks.lr_monitor.logging_interval=step", "trainer.log_every_n_steps=1",
                f"hydra.run.dir={run}", f"paths.output_dir={run}")
    assert r.returncode == 0, r.stderr[-2000:]
    lr = pd.read_csv(run / "csv" / "metrics.csv")["lr-AdamW"].dropna().to_numpy()
    peak = lr.max()
    assert len(lr) > 20, "the run should take many steps in 5 s"
    assert lr[-1] < 0.05 * peak                   # annealed to ~0 by the time the clock ran out ...
    assert (lr[lr.argmax():][1:] <= lr[lr.argmax():][:-1] + 1e-12).all()   # ... monotonically after warmup
    assert lr[len(lr) // 2] > 0.1 * peak          # and not before: the schedule spans the whole budget
