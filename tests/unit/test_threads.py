"""`threads=N` sets torch's CPU threads for the run, over what the environment says."""
import json

from ..conftest import train_on_fixture


def test_threads_setting_wins_over_the_environment(tmp_path, fixture_data_dir):
    for threads in (None, 2):
        run = tmp_path / str(threads)
        r = train_on_fixture("synthetic", run, *([f"threads={threads}"] if threads else []),
                             data_dir=fixture_data_dir, env={"OMP_NUM_THREADS": "1"})
        assert r.returncode == 0, r.stderr[-3000:]
        assert json.loads((run / "results.json").read_text())["threads"] == (threads or 1)
