"""The contract every registered task meets, built-in or from another distribution (the `rnnsuite.tasks`
entry-point group). For each task, on its generated fixture data:

- it builds from config: the DataModule and the model, with the sizes the model learns from the data;
- it trains one epoch (`fixture_run`), logging train and val metrics and writing both checkpoints;
- its checkpoint, loaded by `rnn-eval` with no data options (the checkpoint carries the run's data config),
  scores the test split exactly as the run did, and reports the same baselines on the same split;
- it predicts from a file and, where its input can be typed, from text or arguments (the same input given
  both ways gets the same answer);
- its test metrics are the ones it documents (`Task.metrics`), it monitors one of them on val, and its
  baselines report only documented metrics.
"""
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from rnnsuite.registry import all_tasks, load_object
from tests.conftest import compose

TASKS = all_tasks()
# xdist's loadgroup keeps every test of one task on one worker, so each task trains once per session
EACH_TASK = [pytest.param(name, marks=pytest.mark.xdist_group(name)) for name in TASKS]


def results(run):
    return json.loads((run / "results.json").read_text())


def assert_same(a, b, where):
    """Equal trees of results, numbers to 1e-5 relative."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        assert b == pytest.approx(a, rel=1e-5, abs=1e-6), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("task", EACH_TASK)
def test_builds_from_config(task, tmp_path, fixture_data_dir, monkeypatch):
    from rnnsuite.run import build
    from rnnsuite.data.module import TaskDataModule
    from rnnsuite.training import TaskModule
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    cfg = compose(overrides=[f"task={task}", *TASKS[task].fixture], output_dir=tmp_path)
    dm, model = build(cfg)
    assert isinstance(dm, TaskDataModule) and isinstance(model, TaskModule) and model.task_name == task
    assert model.data_state == dm.state() and model.data_state, "the fitted data state travels with the model"
    assert "data_state" not in model.hparams, "the data state belongs in the checkpoint, not in hparams"
    summary = dm.split_summary()
    assert set(summary) == {"train", "val", "test"}
    assert all(isinstance(n, int) and n > 0 for s in summary.values() for n in s.values()), summary
    batch = next(iter(dm.train_dataloader()))
    assert batch is not None


@pytest.mark.parametrize("task", EACH_TASK)
def test_trains_one_fixture_epoch(task, fixture_run):
    run = fixture_run(task)
    metrics = pd.read_csv(run / "csv" / "metrics.csv")
    epochs = metrics.dropna(subset=["train/loss_epoch"])
    assert epochs["epoch"].tolist() == [0], "one epoch"
    assert math.isfinite(epochs["train/loss_epoch"].iloc[0])
    assert math.isfinite(metrics["val/loss"].dropna().iloc[-1])
    for name in ("best.ckpt", "last.ckpt"):
        assert (run / "checkpoints" / name).stat().st_size > 0
    res = results(run)
    assert res["task"] == task and res["best_checkpoint"].endswith("best.ckpt")
    assert (run / "config.yaml").is_file() and (run / "predictions.txt").is_file()


@pytest.mark.parametrize("task", EACH_TASK)
def test_metrics_are_the_documented_ones(task, fixture_run):
    run = fixture_run(task)
    documented = set(TASKS[task].metrics)
    res = results(run)
    assert set(res["test"]) == documented
    monitor = compose(overrides=[f"task={task}"]).monitor.metric
    assert monitor.startswith("val/") and monitor[4:] in documented
    assert monitor in pd.read_csv(run / "csv" / "metrics.csv").columns
    assert res["baselines"], "every task reports at least one baseline"
    for name, scores in res["baselines"].items():
        numbers = {k for k, v in scores.items() if isinstance(v, (int, float))}
        assert numbers and numbers <= documented, f"baseline {name}: {sorted(numbers - documented)} undocumented"


@pytest.mark.parametrize("task", EACH_TASK)
def test_checkpoint_evaluates_to_the_same_metrics_and_baselines(task, fixture_run, fixture_data_dir, tmp_path,
                                                                monkeypatch):
    """`rnn-eval`'s work (rnnsuite.run.evaluate, in this process) on the best checkpoint."""
    from rnnsuite.run import evaluate
    run = fixture_run(task)
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    # no data options: rnn-eval rebuilds the test split from the data config the checkpoint carries
    evaluate(compose("eval", [f"task={task}", f"ckpt={run / 'checkpoints' / 'best.ckpt'}"], output_dir=tmp_path))
    trained, again = results(run), results(tmp_path)
    assert_same(trained["test"], again["test"], "test")
    # the baselines are recomputed from the checkpoint's data state: the same numbers mean the same split
    assert_same(trained["splits"], again["splits"], "splits")
    assert_same(trained["baselines"], again["baselines"], "baselines")
    # and the task's own figures are drawn again (the learning curves belong to training)
    assert set(again["images"]) == set(trained["images"]) - {"learning_curves"}
    assert all((tmp_path / v).is_file() or Path(v).is_file() for v in again["images"].values())


@pytest.mark.parametrize("task", EACH_TASK)
def test_predicts_from_a_file_and_from_text_or_arguments(task, fixture_run, fixture_data_dir, tmp_path, capsys,
                                                         monkeypatch):
    """`rnn-predict`'s work (rnnsuite.run.predict, in this process) on the best checkpoint."""
    from rnnsuite.run import predict
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))  # the CLI sets it from the config
    spec = TASKS[task]
    assert spec.predict is not None and spec.predict_file is not None, "every task predicts from a file"
    ckpt = fixture_run(task) / "checkpoints" / "best.ckpt"
    answers = {}
    for kind, case in (("file", spec.predict_file), ("args", spec.predict_args)):
        if case is None:
            continue
        folder = tmp_path / kind
        folder.mkdir()
        path = folder / spec.predict_file.file_name
        if spec.predict_file.file_maker:
            load_object(spec.predict_file.file_maker)(path)
        else:
            path.write_text(spec.predict_file.file_text, encoding="utf-8")
        if kind == "args" and not any("{file}" in o or "{dir}" in o for o in case.overrides):
            path.unlink()  # the arguments alone must do
        overrides = [o.format(file=path, dir=folder) for o in case.overrides]
        capsys.readouterr()
        predict(compose("predict", [f"task={task}", f"ckpt={ckpt}", *overrides], output_dir=folder / "run"))
        out = capsys.readouterr()
        assert out.out.strip(), "a prediction a person can read"
        answers[kind] = out.out.replace(str(folder), "<dir>")
        if case.same_as_file:
            assert answers["args"] == answers["file"]
