"""What `rnn-train` prints: the results and what the user can act on, not a dependency's advertisement, its
lines about defaults nobody set, or a deprecation inside a dependency."""
import pytest

from tests.conftest import run_cli

NOISE = ["litlogger", "💡", "was configured so", "LeafSpec", "_pytree"]


@pytest.mark.xdist_group("sentiment")
def test_a_fixture_run_prints_no_dependency_noise_and_keeps_the_warnings_that_mean_something(fixture_run):
    run = fixture_run("sentiment")  # rnn-train on the fixture: its stdout and stderr are kept
    out, err = (run / "stdout.txt").read_text(), (run / "stderr.txt").read_text()
    for text in NOISE:
        assert text not in out + err, text
    # kept: the table, Lightning's account of the devices, and its warning about something the config can change
    assert "sentiment: test metrics" in out and f"run folder: {run}" in out
    assert "GPU available: False" in err or "GPU available: True" in err
    assert "smaller than the logging interval Trainer(log_every_n_steps=" in err


def test_our_own_warnings_still_print(tmp_path):
    proc = run_cli("rnn-train", "task=sentiment", "data.split_seed=1", "model.hidden_size=0",
                   f"hydra.run.dir={tmp_path}")
    lines = proc.stderr.strip().splitlines()
    assert lines == ["warning: data.split_seed is deprecated and goes in the next release; use data.seed",
                     "error: model.hidden_size must be a whole number >= 1, got 0"], proc.stderr
