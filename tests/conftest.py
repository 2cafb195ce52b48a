"""Shared test helpers: compose configs in-process, run the console scripts as a user would, and train each
registered task once per session on its generated fixture.

Fixtures:
- `data_dir`: an empty data folder for one test (RNNSUITE_DATA_DIR points to it).
- `fixture_run` (session): `fixture_run(task, *overrides) -> Path`, the run folder of `rnn-train` on the
  task's fixture data (its registered `Task.fixture` overrides), one epoch unless `overrides` say otherwise,
  CSV logger, in a subprocess. Trained once per session for each (task, overrides) and shared: copy the
  folder before changing anything in it. It holds config.yaml, results.json, csv/metrics.csv,
  checkpoints/{best,last}.ckpt, and the run's stdout.txt and stderr.txt. The task contract test
  (test_task_contract.py) uses it; so can tests of determinism or of resuming
  (`resume=<run>/checkpoints/last.ckpt`). `train_on_fixture` is the same run for a test that needs its own
  folder (to kill it, say).
- `fixture_data_dir` (session): the data folder those runs share (generated caches only; nothing fetched).
- `predict_here`: `predict_here(*overrides) -> (exit code, stdout, stderr)` of rnn-predict in this process.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
# measured facts about the machine (precision.bf16_speedup): one folder for the session's processes, not ~/.cache
os.environ.setdefault("RNNSUITE_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"rnnsuite-test-cache-{os.getuid()}"))
# Under pytest-xdist each of the N workers (and every rnn-train it starts) gets its share of the cores, not all of
# them: N workers x all-core thread pools oversubscribe the CPU, and OpenMP's spinning threads then slow every
# process down. An explicit OMP_NUM_THREADS wins.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1 and "OMP_NUM_THREADS" not in os.environ:
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(max(1, _cores // _WORKERS))
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The suite's own seven tasks (the contract test also runs tasks that other distributions register).
BUILT_IN = ["captioning", "charlm", "forecasting", "music", "sentiment", "synthetic", "translation"]

# Fast runs: CSV logger only, no progress bar, a couple of epochs.
# no max_time: a fixture run is bounded by its epochs, and its schedule (cosine_budget reads the clock against
# max_time) must not depend on how busy the machine is
FAST = ["logger=csv", "callbacks=quiet", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
        "++trainer.max_time=null"]


def compose(config_name="train", overrides=(), output_dir=None):
    """A composed config, as the CLI would see it, with the run folder set to output_dir."""
    from rnnsuite.config import compose as compose_config
    return compose_config(config_name, list(overrides) + ([f"paths.output_dir={output_dir}"] if output_dir else []))


def run_cli(tool, *args, cwd=None, env=None, timeout=600):
    """Run a console script (rnn-train, rnn-predict, ...) in a subprocess; returns CompletedProcess."""
    full_env = {**os.environ, "WANDB_MODE": "disabled", **(env or {})}
    return subprocess.run([str(BIN / tool), *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT,
                          env=full_env, timeout=timeout)


@pytest.fixture
def predict_here(capsys, monkeypatch):
    """predict_here(*overrides) -> (exit code, stdout, stderr) of `rnn-predict` run in this process: its work
    (rnnsuite.run.predict), without a new interpreter's start-up; a user's mistake is code 2 and its one line,
    `error: ...`, as the console script prints it."""
    from rnnsuite.api import user_errors
    from rnnsuite.inputs import UserError
    from rnnsuite.run import predict
    # rnn-predict points RNNSUITE_DATA_DIR at the configured folder; restore it afterwards
    monkeypatch.setenv("RNNSUITE_DATA_DIR", os.environ.get("RNNSUITE_DATA_DIR", str(ROOT / "data")))

    def call(*overrides):
        capsys.readouterr()
        try:
            with user_errors():
                predict(compose("predict", list(overrides)))
            code = 0
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            code = 2
        out = capsys.readouterr()
        return code, out.out, out.err
    return call


def train_on_fixture(task, run_dir, *overrides, data_dir=None, env=None, timeout=900):
    """`rnn-train task=<task>` on its fixture data for one epoch (overrides win), in a subprocess; the run folder
    is run_dir; env adds to its environment. Returns the CompletedProcess."""
    from rnnsuite.registry import get_task
    args = [f"task={task}", *get_task(task).fixture, "trainer.max_epochs=1", *FAST, *overrides,
            f"hydra.run.dir={run_dir}"]
    env = {**({"RNNSUITE_DATA_DIR": str(data_dir)} if data_dir else {}), **(env or {})}
    return run_cli("rnn-train", *args, env=env or None, timeout=timeout)


@pytest.fixture(scope="session")
def fixture_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fixture_data")


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory, fixture_data_dir):
    runs = {}

    def get(task, *overrides):
        key = (task, *overrides)
        if key not in runs:
            run_dir = tmp_path_factory.mktemp(f"{task}_fixture_run")
            proc = train_on_fixture(task, run_dir, *overrides, data_dir=fixture_data_dir)
            (run_dir / "stdout.txt").write_text(proc.stdout)
            (run_dir / "stderr.txt").write_text(proc.stderr)
            assert proc.returncode == 0, f"rnn-train {task} on its fixture failed:\n{proc.stderr[-3000:]}"
            runs[key] = run_dir
        return runs[key]
    return get


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder for the test: nothing fetched, nothing shared with other tests."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(d))
    return d
