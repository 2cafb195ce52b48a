"""The wheel: built from this checkout and installed (not editable) into a new virtual environment, it runs a
task from a folder outside the checkout, and so does a task from another distribution installed beside it.

The new environment borrows the already-installed dependencies (torch and the rest) through a .pth file, so
the test installs nothing from an index; rnnsuite itself comes only from the wheel."""
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import FAST, ROOT

pytestmark = pytest.mark.slow


def run(cmd, cwd, env=None, timeout=900):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "WANDB_MODE": "disabled", **(env or {})})
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, bin folder, work folder outside the checkout, environment) of a new venv holding the wheels of
    rnnsuite and of the example parity task."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    dist = tmp_path / "dist"
    for project in (ROOT, ROOT / "examples" / "parity_task"):
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, project], cwd=tmp_path)
    wheels = sorted(dist.glob("*.whl"))
    assert [w.name.split("-")[0] for w in wheels] == ["rnnsuite", "rnnsuite_parity"]

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    site = run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "zz_borrowed_deps.pth").write_text("\n".join(deps) + "\n")
    run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", *wheels], cwd=tmp_path)

    work = tmp_path / "elsewhere"  # no checkout here, nor above
    work.mkdir()
    env = {"RNNSUITE_DATA_DIR": str(work / "data"), "PYTHONPATH": ""}
    where = run([py, "-c", "import rnnsuite, rnnsuite.conf, rnnsuite_parity; print(rnnsuite.__file__); "
                           "print(rnnsuite_parity.__file__)"], work, env).stdout
    assert all(line.startswith(str(env_dir)) for line in where.split()), where
    return py, env_dir / "bin", work, env


def test_the_wheel_runs_tasks_outside_the_checkout(installed):
    _, bin_dir, work, env = installed
    for task, data in (("sentiment", "sentiment_fixture"), ("parity", "parity_small")):
        run([bin_dir / "rnn-train", f"task={task}", f"data={data}", "trainer.max_epochs=1", *FAST,
             f"hydra.run.dir={work / task}"], work, env)
        res = json.loads((work / task / "results.json").read_text())
        assert res["task"] == task and res["test"]["acc"] >= 0
    out = run([bin_dir / "rnn-predict", "task=sentiment", f"ckpt={work / 'sentiment' / 'checkpoints' / 'best.ckpt'}",
               "text='a superb film'"], work, env).stdout
    assert out.split("\t")[0] in ("fresh", "rotten")
    # the project's Optuna sweeper and its per-task search space, found from the wheel (Hydra plugin + pkg:// config)
    run([bin_dir / "rnn-train", "-m", "task=synthetic", "data.n_train=64", "data.n_val=32", "data.n_test=32",
         "data.seq_len=10", "sweep=optuna", "hydra.sweeper.n_trials=2", "trainer.max_epochs=1", *FAST,
         f"hydra.sweep.dir={work / 'sweep'}"], work, env)
    summary = json.loads((work / "sweep" / "sweep_summary.json").read_text())
    assert summary["states"] == {"COMPLETE": 2}, summary["states"]


# From Python, as a notebook would: train on the fixtures, load each checkpoint, ask it.
API_SCRIPT = """
import sys
import pandas as pd
import rnnsuite
from rnnsuite.tasks.forecasting.predict import example_csv

fast = ["logger=csv", "callbacks=quiet", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
run = rnnsuite.train("sentiment", "data=sentiment_fixture", *fast, dir="api_sentiment", **{"trainer.max_epochs": 1})
answers = rnnsuite.load(run.checkpoint).predict(["a moving film", "a dull, lifeless script"])
print("sentiment", run.results["test"]["acc"], answers)
assert [label in ("fresh", "rotten") and 0.5 <= p <= 1 for label, p in answers] == [True, True], answers

run = rnnsuite.train("forecasting", "data=forecast_fixture", *fast, dir="api_forecasting", **{"trainer.max_epochs": 1})
model = rnnsuite.load(run.checkpoint)
recent = pd.read_csv(example_csv("recent.csv"))
forecast = model.forecast(recent)
print("forecasting", run.results["test"]["mae"], len(forecast))
horizon = model.model.data_state["horizon"]
assert len(forecast) == horizon and not forecast.isna().any().any(), forecast
future = pd.to_datetime(recent["time"])[recent["Demand"].isna()]  # the rows after the last observed target
assert list(forecast["time"]) == list(future.iloc[:horizon]), forecast["time"]
try:
    rnnsuite.load("missing.ckpt")
except rnnsuite.UserError as e:
    print("error:", e)
"""


def test_the_python_api_from_the_wheel_trains_loads_predicts_and_forecasts(installed):
    py, _, work, env = installed
    out = run([py, "-c", API_SCRIPT], work, env).stdout
    assert "error: checkpoint not found: missing.ckpt" in out
    assert (work / "api_sentiment" / "checkpoints" / "best.ckpt").is_file()
    assert (work / "api_forecasting" / "results.json").is_file()
