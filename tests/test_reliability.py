"""Every registered task, on its fixture: a run killed with SIGKILL in the middle of an epoch and resumed from
its last.ckpt ends with exactly the results of an uninterrupted run, and the same seed and config run twice give
the same results.json (apart from times and paths). The uninterrupted reference of both is the session's shared
fixture run (`fixture_run`), so each test adds one run of its own."""
import json
import os
import signal
import subprocess
import time

import pandas as pd
import pytest

from rnnsuite.registry import all_tasks
from tests.conftest import BIN, BUILT_IN, FAST, ROOT, compose, train_on_fixture

EACH_TASK = [pytest.param(name, marks=pytest.mark.xdist_group(name)) for name in BUILT_IN]


def results(run):
    """results.json less what may differ between two runs of one config: wall-clock times and the run folder."""
    res = json.loads((run / "results.json").read_text().replace(str(run), "<run>"))
    del res["minutes"], res["timing"]
    return res


# The default suite checks determinism on two quick tasks; the others are `slow` (make test-all). The default suite
# still covers every task's determinism in part: the SIGKILL-resume test below must end exactly where an
# uninterrupted run ends.
DETERMINISM_CASES = [p if p.values[0] in ("sentiment", "synthetic")
                     else pytest.param(*p.values, marks=[*p.marks, pytest.mark.slow]) for p in EACH_TASK]


@pytest.mark.parametrize("task", DETERMINISM_CASES)
def test_same_seed_and_config_give_the_same_results(task, fixture_run, fixture_data_dir, tmp_path):
    reference = fixture_run(task)
    again = train_on_fixture(task, tmp_path, data_dir=fixture_data_dir)
    assert again.returncode == 0, again.stderr[-3000:]
    assert results(tmp_path) == results(reference)


def curves(run):
    """metrics.csv's rows less the wall-clock column and the training metrics: an epoch's training means are
    taken over the batches a process saw, so in the epoch a run resumed in they cover the batches after its
    checkpoint (Lightning does not checkpoint them). Validation, test and learning-rate rows must all be there."""
    df = pd.read_csv(run / "csv" / "metrics.csv")
    return df.drop(columns=[c for c in df if c.startswith(("time/", "train/"))]).fillna("").to_dict("records")


def kill_at_kill_point(argv, marker):
    """Run argv (an rnn-train command with `kill_point(marker, step)`) and SIGKILL it there; returns (epoch,
    batch) where it was killed."""
    env = {**os.environ, "WANDB_MODE": "disabled",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 600
        while not marker.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        assert marker.exists(), f"the run ended before its kill point: {proc.stderr.read()[-3000:]}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    return tuple(map(int, marker.read_text().split()))


EVERY = "callbacks.last_every_n_steps.every_n_train_steps=2"


def kill_point(marker, step=2):
    return ["+callbacks.kill_point._target_=tests.kill_point.WaitAfterStep", f"+callbacks.kill_point.step={step}",
            f"+callbacks.kill_point.marker={marker}"]


@pytest.mark.parametrize("task", EACH_TASK)
def test_resume_after_sigkill_mid_epoch_ends_like_an_uninterrupted_run(task, fixture_run, fixture_data_dir,
                                                                       tmp_path, monkeypatch):
    """last.ckpt every 2 steps; the run is killed (SIGKILL) after step 2 of its first epoch, then resumed."""
    reference = fixture_run(task)
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    args = [f"task={task}", *all_tasks()[task].fixture, "trainer.max_epochs=1", *FAST, EVERY,
            *kill_point(tmp_path / "at_step_2"), f"hydra.run.dir={tmp_path}"]
    assert kill_at_kill_point([str(BIN / "rnn-train"), *args], tmp_path / "at_step_2") == (0, 2), \
        "killed in the middle of the first epoch, after its second batch"
    assert not (tmp_path / "results.json").exists()

    resumed = train_on_fixture(task, tmp_path, EVERY, f"resume={tmp_path / 'checkpoints' / 'last.ckpt'}",
                               data_dir=fixture_data_dir)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert results(tmp_path) == results(reference)
    assert curves(tmp_path) == curves(reference), "the resumed run's metrics.csv has the uninterrupted run's rows"


# val/mse falls every epoch, so with mode max each epoch after the first is one without a new best: the rate halves
PLATEAU = ["optim.scheduler=plateau", "+optim.plateau_patience=0", "monitor.mode=max", "trainer.max_epochs=3",
           "callbacks.early_stopping.patience=10"]


@pytest.mark.parametrize("every", [2, 0], ids=["from the middle of an epoch", "from the end of the epoch before"])
def test_a_resumed_run_halves_the_rate_where_an_uninterrupted_run_does(every, fixture_run, fixture_data_dir,
                                                                      tmp_path, monkeypatch):
    """optim.scheduler=plateau, killed after the second batch of epoch 1 (8 batches an epoch). last.ckpt every 2
    steps: resumed from the middle of epoch 1; every 0: from the end of epoch 0. Lightning skips the plateau step
    of an epoch a run restarted in, and writes the epoch's checkpoint before it."""
    reference = fixture_run("synthetic", *PLATEAU)
    lrs = pd.read_csv(reference / "csv" / "metrics.csv")["lr-AdamW"].dropna().tolist()
    assert lrs == [lrs[0], lrs[0], lrs[0] / 2], "epoch 1 had no new best: epoch 2 runs at half the rate"
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    steps = f"callbacks.last_every_n_steps.every_n_train_steps={every}"
    args = ["task=synthetic", *all_tasks()["synthetic"].fixture, *FAST, *PLATEAU, steps]
    marker = tmp_path / "at_step_10"
    assert kill_at_kill_point([str(BIN / "rnn-train"), *args, *kill_point(marker, 10), f"hydra.run.dir={tmp_path}"],
                              marker) == (1, 2)
    resumed = train_on_fixture("synthetic", tmp_path, *PLATEAU, steps,
                               f"resume={tmp_path / 'checkpoints' / 'last.ckpt'}", data_dir=fixture_data_dir)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert curves(tmp_path) == curves(reference)
    assert results(tmp_path) == results(reference)


def test_a_study_resumes_a_run_its_last_sitting_cut_off(fixture_run, fixture_data_dir, tmp_path, monkeypatch):
    """rnn-reproduce stopped in the second epoch of a run: the next sitting reads on from the run's last.ckpt, and
    the run ends with the results and the metrics.csv rows (epoch 1's among them) of an uninterrupted run."""
    from rnnsuite.studies.base import COMMON, Run, execute
    reference = fixture_run("synthetic", "trainer.max_epochs=2")  # 8 steps an epoch
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    run = Run({"seed": 1}, ["task=synthetic", *all_tasks()["synthetic"].fixture, "trainer.max_epochs=2",
                            "++trainer.max_time=null", EVERY], dir=tmp_path / "run")
    run.dir.mkdir()
    (run.dir / "train.log").write_text("the first sitting\n")
    marker = tmp_path / "at_step_10"
    assert kill_at_kill_point([str(BIN / "rnn-train"), *run.overrides, *COMMON, *kill_point(marker, 10),
                               f"hydra.run.dir={run.dir}"], marker) == (1, 2)
    assert not run.finished and run.resume == [f"resume={run.dir / 'checkpoints' / 'last.ckpt'}"]
    assert execute([run], log=lambda _: None) == 1
    assert not (run.dir / "error.txt").exists(), (run.dir / "train.log").read_text()[-2000:]
    assert results(run.dir) == results(reference)
    assert curves(run.dir) == curves(reference)
    log = (run.dir / "train.log").read_text()
    assert log.startswith("the first sitting\n") and "Restored all states from the checkpoint" in log
    assert run.finished and run.resume == []


def test_eval_uses_the_runs_data_config_and_the_configured_trainer(fixture_run, fixture_data_dir, tmp_path,
                                                                   monkeypatch):
    """rnn-eval with no data options tests on the split the run was trained with (the composed default, Rotten
    Tomatoes, is not even fetched here); `data.KEY=` changes that key only; `trainer.precision` is honoured."""
    from rnnsuite.run import evaluate
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    run = fixture_run("sentiment")
    trained = json.loads((run / "results.json").read_text())
    base = ["task=sentiment", f"ckpt={run / 'checkpoints' / 'best.ckpt'}"]
    evaluate(compose("eval", [*base, "trainer.precision=64-true"], output_dir=tmp_path / "double"), overrides=base)
    double = json.loads((tmp_path / "double" / "results.json").read_text())
    assert double["precision"]["precision"] == "64-true" and double["data"]["source"] == "fixture"
    assert double["splits"] == trained["splits"] and double["baselines"] == trained["baselines"]
    assert double["test"]["acc"] == trained["test"]["acc"]
    assert double["test"]["loss"] == pytest.approx(trained["test"]["loss"], rel=1e-4)
    assert double["test"]["loss"] != trained["test"]["loss"], "computed in float64, not float32"

    evaluate(compose("eval", [*base, "data.seed=1"], output_dir=tmp_path / "seed1"), overrides=[*base, "data.seed=1"])
    seed1 = json.loads((tmp_path / "seed1" / "results.json").read_text())
    assert seed1["data"]["seed"] == 1 and seed1["data"]["source"] == "fixture"
    assert seed1["test"]["loss"] != trained["test"]["loss"], "scored on another split of the same fixture"
