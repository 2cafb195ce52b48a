"""Several machines share one Optuna study through PostgreSQL (Debian's `postgresql` package): a private
server on 127.0.0.1, two workers on the same study, and both see every trial."""
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.unit.test_sweep import app, sweep  # noqa: F401  (app is a fixture)

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres():
    """A throwaway server: a new data folder, listening on 127.0.0.1 only, trusting local connections."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.skip("PostgreSQL not installed (Debian: apt-get install postgresql)")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses to run as root
    data = Path(tempfile.mkdtemp(prefix="rnnsuite-pg-"))  # not under pytest's tmp: postgres must reach it
    if as_user:
        shutil.chown(data, "postgres")
    port = free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    run(f"{bins[-1]}/initdb", "-D", str(data / "db"), "-A", "trust", "-U", "postgres")
    run(f"{bins[-1]}/pg_ctl", "-D", str(data / "db"), "-l", str(data / "log"), "-w", "start",
        "-o", f"-h 127.0.0.1 -p {port} -k {data}")
    try:
        run(f"{bins[-1]}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "optuna")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/optuna"
    finally:
        run(f"{bins[-1]}/pg_ctl", "-D", str(data / "db"), "-m", "fast", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


def test_two_workers_share_a_postgres_study_and_both_see_every_trial(app, postgres):  # noqa: F811
    # no pruner: the median pruner may stop the sixth trial, and this test is about sharing, not pruning
    args = ["x=interval(0, 0.9)", "hydra.sweeper.n_trials=6", "sleep=0.3", "hydra.sweeper.pruner=none",
            f"hydra.sweeper.storage={postgres}"]
    first = sweep(app, *args, wait=False)
    time.sleep(3)  # the second worker joins a running study, as a second machine would
    second = sweep(app, *args, folder="sweep2", wait=False)
    outs = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs[0][-2000:] + outs[1][-2000:]
    trials = optuna.load_study(study_name="s", storage=postgres).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6, [(t.state.name, t.user_attrs) for t in trials]
    assert {t.user_attrs["worker"] for t in trials} == {f"{socket.gethostname()}:{p.pid}" for p in (first, second)}
    # each worker's summary (its own sweep folder, as on its own machine) lists all six trials
    for folder in ("sweep", "sweep2"):
        summary = json.loads((app / folder / "sweep_summary.json").read_text())
        assert summary["states"] == {"COMPLETE": 6}
