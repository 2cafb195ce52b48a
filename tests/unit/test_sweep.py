"""The Optuna sweeper on a tiny Hydra app (no training, so the processes start fast): a persistent study that
the same command resumes, and two workers sharing one SQLite file. (tests/tasks/test_sweeps.py sweeps rnn-train:
failures, pruning, W&B.)"""
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

APP = '''
import time

import hydra
import optuna
from hydra_plugins.rnnsuite_sweepers import register

from rnnsuite.sweep.trial import current_trial


@hydra.main(version_base="1.3", config_path=".", config_name="app")
def main(cfg):
    trial = current_trial()
    if cfg.x > 0.95:
        raise ValueError(f"x={cfg.x} is impossible")
    for epoch in range(3):  # what the Lightning pruning callback does after each validation
        time.sleep(cfg.sleep)
        trial.report((cfg.x - 0.3) ** 2 + 0.1 * (3 - epoch), epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return (cfg.x - 0.3) ** 2


if __name__ == "__main__":
    register()  # an editable install hides the plugin from Hydra's scan
    main()
'''


@pytest.fixture
def app(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "app.yaml").write_text("x: 0.5\nsleep: 0.0\nmonitor:\n  mode: min\n")
    return tmp_path


def sweep(app, *args, wait=True, folder="sweep"):
    cmd = [sys.executable, str(app / "app.py"), "-m", "hydra/sweeper=rnnsuite_optuna", f"hydra.sweep.dir={folder}",
           "hydra.sweeper.study_name=s", "hydra.sweeper.sampler.seed=0", *args]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    if not wait:
        return subprocess.Popen(cmd, cwd=app, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, cwd=app, env=env, capture_output=True, text=True, timeout=300)


def study(app):
    return optuna.load_study(study_name="s", storage=f"sqlite:///{app / 'sweep' / 'optuna.db'}")


def test_the_study_persists_and_the_same_command_resumes_it(app):
    p = sweep(app, "x=interval(0, 0.9)", "hydra.sweeper.n_trials=2")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    first = {t.number: t.params["x"] for t in study(app).trials}
    assert sorted(first) == [0, 1]
    p = sweep(app, "x=interval(0, 0.9)", "hydra.sweeper.n_trials=4")   # continues to 4 in total
    assert p.returncode == 0, p.stderr[-3000:]
    trials = study(app).trials
    assert len(trials) == 4 and {t.number: t.params["x"] for t in trials[:2]} == first
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert all((app / "sweep" / f"trial_{n}" / ".hydra" / "overrides.yaml").is_file() for n in range(4))
    # the resumed worker must not replay the first worker's random draws
    assert len({round(t.params["x"], 9) for t in trials}) == 4
    assert sweep(app, "x=interval(0, 0.9)", "hydra.sweeper.n_trials=4").returncode == 0
    assert len(study(app).trials) == 4                                  # nothing left to do
    summary = (app / "sweep" / "sweep_summary.md").read_text()
    best = min(trials, key=lambda t: t.value)
    assert f"Trial {best.number}: value = {best.value:.4g}" in summary and (app / "sweep" / "sweep.png").is_file()


def test_two_workers_split_the_trials_of_one_sqlite_study(app):
    args = ["x=interval(0, 0.9)", "hydra.sweeper.n_trials=4", "sleep=0.3"]
    first = sweep(app, *args, wait=False)
    second = sweep(app, *args, wait=False)
    outs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs[0][-2000:] + outs[1][-2000:]
    trials = study(app).trials
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETE for t in trials)
    workers = {t.user_attrs["worker"] for t in trials}
    assert workers == {f"{os.uname().nodename}:{p.pid}" for p in (first, second)}, workers
    assert sorted(int(d.name[6:]) for d in (app / "sweep").glob("trial_*")) == list(range(4))
