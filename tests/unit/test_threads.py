"""`threads=N` sets torch's CPU threads for the run, over what the environment says."""
import json

from rnnsuite.registry import get_task

from ..conftest import FAST, run_cli


def test_threads_setting_wins_over_the_environment(tmp_path, fixture_data_dir):
    for threads in (None, 2):
        run = tmp_path / str(threads)
        args = ["task=synthetic", *get_task("synthetic").fixture, "trainer.max_epochs=1", *FAST,
                f"hydra.run.dir={run}"] + ([f"threads={threads}"] if threads else [])
        r = run_cli("rnn-train", *args, env={"OMP_NUM_THREADS": "1", "RNNSUITE_DATA_DIR": str(fixture_data_dir)})
        assert r.returncode == 0, r.stderr[-3000:]
        assert json.loads((run / "results.json").read_text())["threads"] == (threads or 1)
