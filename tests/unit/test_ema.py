"""The EMA callback (`callbacks.ema`): checkpoints hold the moving average of the weights, and every score of
a run (validation, rnn-train's test of best.ckpt, rnn-eval) is the average's."""
import json

import pytest
import torch

from tests.conftest import compose, train_on_fixture

GAMMA = 1.0   # after the second update the average keeps (1 - 1/2) ** (GAMMA + 1) = 1/4 of the first weights
EMA_ON = [f"callbacks.ema={{_target_:rnnsuite.training.callbacks.EMA,gamma:{GAMMA}}}", "data.windows_per_epoch=1",
          "callbacks.early_stopping=null",
          "trainer.precision=32-true"]  # a CPU with native bf16 would train and test under autocast: not to 1e-6


def weights(run, kind):
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    return ckpt["state_dict"] if kind == "average" else ckpt["current_model_state"]


def test_checkpoint_holds_the_moving_average_and_every_score_is_its(tmp_path, fixture_data_dir, monkeypatch):
    from rnnsuite.cli.evaluate import evaluate
    runs = {}
    for steps in (1, 2):  # one window per epoch: a checkpoint after the first and after the second update
        runs[steps] = tmp_path / f"steps{steps}"
        proc = train_on_fixture("charlm", runs[steps], *EMA_ON, f"trainer.max_epochs={steps}",
                                data_dir=fixture_data_dir)
        assert proc.returncode == 0, proc.stderr[-2000:]
    w1 = weights(runs[1], "raw")
    assert all(torch.equal(w1[k], v) for k, v in weights(runs[1], "average").items()), "the first update copies"
    w2, avg = weights(runs[2], "raw"), weights(runs[2], "average")
    for k, v in avg.items():
        assert torch.allclose(v, 0.25 * w1[k] + 0.75 * w2[k], atol=1e-6), k
    assert any(not torch.equal(avg[k], w2[k]) for k in avg), "the two updates moved the weights"

    # rnn-train tested best.ckpt's averaged weights (Lightning's own callback would reload the raw ones there),
    # so rnn-eval of the same file gives the same figures
    best = torch.load(runs[2] / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)
    assert any(not torch.equal(best["state_dict"][k], best["current_model_state"][k]) for k in avg)
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    out = tmp_path / "eval"
    evaluate(compose("eval", ["task=charlm", f"ckpt={runs[2] / 'checkpoints' / 'best.ckpt'}",
                                     "trainer.precision=32-true"], output_dir=out))
    trained = json.loads((runs[2] / "results.json").read_text())["test"]
    again = json.loads((out / "results.json").read_text())["test"]
    assert again == pytest.approx(trained, rel=1e-6)
