"""The EMA callback (`callbacks.ema`): checkpoints hold the moving average of the weights, and every score of
a run (validation, rnn-train's test of best.ckpt, rnn-eval) is the average's."""
import json

import pytest
import torch

from tests.conftest import compose, train_on_fixture

GAMMA = 1.0   # after the second update the average keeps (1 - 1/2) ** (GAMMA + 1) = 1/4 of the first weights
# select:false: charlm's own ema has select:true, and a dict override merges into it
EMA_ON = [f"callbacks.ema={{_target_:rnnsuite.training.callbacks.EMA,gamma:{GAMMA},select:false}}",
          "data.windows_per_epoch=1",
          "callbacks.early_stopping=null",
          "trainer.precision=32-true"]  # a CPU with native bf16 would train and test under autocast: not to 1e-6


def weights(run, kind):
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    return ckpt["state_dict"] if kind == "average" else ckpt["current_model_state"]


def test_checkpoint_holds_the_moving_average_and_every_score_is_its(tmp_path, fixture_data_dir, monkeypatch):
    from rnnsuite.run import evaluate
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


def val_curve(run, key):
    import csv
    rows = list(csv.DictReader(open(run / "csv" / "metrics.csv")))
    return [float(r[key]) for r in rows if r.get(key)]


def test_select_scores_raw_and_average_as_the_runs_without_it_and_keeps_the_better(tmp_path, fixture_data_dir):
    """`callbacks.ema.select=true`: its raw scores are a run without the average's, its average's scores are a run
    with the average alone, the monitored metric is the better of the two, best.ckpt holds those weights, and a
    resumed run continues both."""
    # a constant, high rate: the average wins some validations and the raw weights others (seed 3: 0, 1, 0, 1)
    common = ["data.windows_per_epoch=1", "callbacks.early_stopping=null", "trainer.precision=32-true",
              "optim.scheduler=none", "optim.lr=0.05", "seed=3"]
    ema = f"callbacks.ema={{_target_:rnnsuite.training.callbacks.EMA,gamma:{GAMMA}"
    runs = {name: tmp_path / name for name in ("plain", "average", "select", "first3", "resumed")}
    for name, extra in (("plain", [ema.split("=")[0] + "=null"]), ("average", [ema + ",select:false}"]),
                        ("select", [ema + ",select:true}"]), ("first3", [ema + ",select:true}"]),
                        ("resumed", [ema + ",select:true}", f"resume={runs['first3'] / 'checkpoints' / 'last.ckpt'}"])):
        epochs = 3 if name == "first3" else 4
        proc = train_on_fixture("charlm", runs[name], *common, *extra, f"trainer.max_epochs={epochs}",
                                data_dir=fixture_data_dir)
        assert proc.returncode == 0, proc.stderr[-2000:]
    raw, avg = val_curve(runs["select"], "val_raw/bpc"), val_curve(runs["select"], "val_avg/bpc")
    assert len(raw) == len(avg) == 4
    # scoring the average between the raw weights' batches changes neither the raw weights nor their training
    assert raw == pytest.approx(val_curve(runs["plain"], "val/bpc"), rel=1e-6)
    assert avg == pytest.approx(val_curve(runs["average"], "val/bpc"), rel=1e-6)
    chosen = val_curve(runs["select"], "val/average_chosen")
    assert chosen == [float(a < r) for r, a in zip(raw, avg)]
    assert 0.0 in chosen[1:] and 1.0 in chosen, "this set-up is meant to select each kind of weights"
    assert val_curve(runs["select"], "val/bpc") == pytest.approx([min(r, a) for r, a in zip(raw, avg)], rel=1e-6)
    # every val/* metric is the kept weights' (here the loss, in nats)
    losses = zip(val_curve(runs["select"], "val_raw/loss"), val_curve(runs["select"], "val_avg/loss"), chosen)
    assert val_curve(runs["select"], "val/loss") == pytest.approx([a if c else r for r, a, c in losses], rel=1e-6)

    # best.ckpt holds the weights that won its validation, and rnn-train's test scored those
    best_epoch = min(range(4), key=lambda i: min(raw[i], avg[i]))
    best = torch.load(runs["select"] / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)
    results = json.loads((runs["select"] / "results.json").read_text())
    assert results["best_val"]["val/bpc"] == pytest.approx(min(raw[best_epoch], avg[best_epoch]), rel=1e-6)
    kept, current = best["state_dict"], best["current_model_state"]
    assert any(not torch.equal(kept[k], current[k]) for k in kept) == bool(chosen[best_epoch])
    if best_epoch == 3:  # the last epoch's raw weights are the plain run's last ones
        plain = torch.load(runs["plain"] / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
        assert all(torch.equal(current[k], plain["state_dict"][k]) for k in kept)

    # the third validation kept the raw weights; resuming there restores the raw weights and the average
    first3 = torch.load(runs["first3"] / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert chosen[2] == 0.0 and "average_state_dict" in first3
    assert all(torch.equal(first3["state_dict"][k], first3["current_model_state"][k]) for k in kept)
    for key in ("val_raw/bpc", "val_avg/bpc"):
        assert val_curve(runs["resumed"], key)[-1] == pytest.approx(val_curve(runs["select"], key)[-1], rel=1e-6)
