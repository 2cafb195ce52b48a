"""DDP gives the right numbers: for every task, a 2-process CPU run (`trainer=ddp trainer.devices=2
trainer.accelerator=cpu`) on the fixture reports the same test metrics on both processes, and they equal a
1-process `rnn-eval` of the same checkpoint on the same test split: every metric is synced over the processes
and every test example is scored exactly once."""
import json

import pytest

from tests.conftest import BUILT_IN, compose, train_on_fixture

EACH_TASK = [pytest.param(name, marks=pytest.mark.xdist_group(name)) for name in BUILT_IN]


@pytest.mark.slow
@pytest.mark.parametrize("task", EACH_TASK)
def test_two_processes_report_what_one_process_reports(task, tmp_path, fixture_data_dir, monkeypatch):
    from rnnsuite.run import evaluate
    run = tmp_path / "ddp"
    proc = train_on_fixture(task, run, "trainer=ddp", "trainer.devices=2", "trainer.accelerator=cpu",
                            data_dir=fixture_data_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((run / "results.json").read_text())
    assert res["processes"] == 2
    first, second = res["test_by_process"]
    assert first == second == res["test"], "the processes agree"

    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    evaluate(compose("eval", [f"task={task}", f"ckpt={run / 'checkpoints' / 'best.ckpt'}"],
                     output_dir=tmp_path / "eval"))
    one = json.loads((tmp_path / "eval" / "results.json").read_text())["test"]
    assert set(one) == set(res["test"])
    for k, v in one.items():
        print(f"{task} test/{k}: 2 processes {res['test'][k]!r}, 1 process {v!r}")  # shown by pytest -rA
        assert res["test"][k] == pytest.approx(v, rel=1e-6, abs=1e-9), (k, res["test"][k], v)
