"""rnn-reproduce: every study runs in --quick mode (tiny grids on fixtures) and writes its table and figure;
a second call runs nothing; the table's means and spreads are those of the runs' results.json."""
import json
import os
import re
import statistics

import pytest

from rnnsuite.cli.reproduce import main, run_here
from rnnsuite.studies import STUDIES
from rnnsuite.studies.base import MEAN_STD, reproduce

# one xdist worker takes the whole file: the quick grids are a module fixture, which each worker would run again
pytestmark = pytest.mark.xdist_group("reproduce")

@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """Each study's quick grid, run once for this module: name -> (out folder, runs, log lines). The runs train in
    this process, as `rnn-reproduce --quick` does (a subprocess per run would spend ~10 s each importing)."""
    done = {}
    data = tmp_path_factory.mktemp("data")

    def run(name):
        if name not in done:
            out, log = tmp_path_factory.mktemp(name), []
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("RNNSUITE_DATA_DIR", str(data))
                done[name] = out, reproduce(STUDIES[name], out, quick=True, log=log.append, run_here=run_here), log
        return done[name]
    return run


# every study's quick grid: 4-10 in-process runs of a few training steps each, 6-23 s per study on one core
@pytest.mark.parametrize("name", list(STUDIES))
def test_each_study_runs_quick_and_tables_a_row_per_cell(name, quick):
    study = STUDIES[name]
    tmp_path, runs, _ = quick(name)
    assert all(r.results for r in runs), [r.error for r in runs if r.error]
    md = (tmp_path / f"{name}.md").read_text()
    assert md.startswith(f"# {study.title}") and "commit " in md and "total wall time" in md
    assert (tmp_path / f"{name}.png").stat().st_size > 5000
    for label in dict.fromkeys(r.key[study.rows] for r in runs):
        row = next((ln for ln in md.splitlines() if ln.startswith(f"| {label} |")), None)
        assert row is not None, f"no row for {label!r}"
        assert MEAN_STD.search(row), row
    data = json.loads((tmp_path / f"{name}.json").read_text(), parse_constant=not_strict)
    assert len(data["runs"]) == len(runs) == len({r.name for r in runs})
    # the report opens with its verdicts; two quick seeds never decide a claim
    assert md.split("\n## ")[1].startswith("Verdict\n")
    assert [v["id"] for v in data["verdicts"]] == [c.id for c in study.claims]
    assert all(v["verdict"] == "inconclusive" and v["reason"].startswith("only ") for v in data["verdicts"])
    assert all(r["results"]["machine"]["cpu"] or r["results"]["machine"]["gpu"] for r in data["runs"])
    assert all(r["results"]["stop"]["by"] in ("cap", "early") for r in data["runs"])


def not_strict(name):
    raise AssertionError(f"{name} in a study JSON: it must be strict JSON (null)")


def test_the_table_is_the_mean_and_std_of_the_runs_and_a_rerun_runs_nothing(quick):
    study = STUDIES["vanishing"]
    tmp_path, runs, log = quick("vanishing")
    stamps = {r.name: (r.dir / "results.json").stat().st_mtime_ns for r in runs}
    md = (tmp_path / "vanishing.md").read_text()
    table = md.split("**Test MSE**")[1].split("**")[0]  # Le et al.'s form: a row per cell
    le = [r for r in runs if r.key["protocol"].startswith("Le")]
    for cell in dict.fromkeys(r.key["cell"] for r in le):
        mse = [json.loads((r.dir / "results.json").read_text())["test"]["mse"] for r in le if r.key["cell"] == cell]
        row = next(ln for ln in table.splitlines() if ln.startswith(f"| {cell} |"))
        mean, std = map(float, MEAN_STD.search(row).groups())
        assert mean == pytest.approx(statistics.mean(mse), abs=6e-5)
        assert std == pytest.approx(statistics.stdev(mse), abs=6e-5)
    log.clear()
    reproduce(study, tmp_path, quick=True, log=log.append, run_here=run_here)
    assert log[0] == f"{len(runs)} of {len(runs)} runs finished; running 0"
    assert {r.name: (r.dir / "results.json").stat().st_mtime_ns for r in runs} == stamps
    assert len(json.loads((tmp_path / "runs" / "vanishing" / "study.json").read_text())["sessions"]) == 1


def test_a_study_with_records_resumes_from_its_committed_json_without_the_run_folders(quick, tmp_path):
    """bahdanau's runs take longer than a sitting: the committed bahdanau.json alone marks its finished runs, so
    a new checkout (no results/runs/) runs only what it lacks, and keeps the sittings' time and machines."""
    study = STUDIES["bahdanau"]
    out, runs, _ = quick("bahdanau")
    record = json.loads((out / "bahdanau.json").read_text())
    first = next(r for r in record["runs"] if r["key"] == {"cell": "LSTM", "model": "attention", "seed": 1})
    first["results"] = None  # this run is not recorded: the new checkout must run it again
    (tmp_path / "bahdanau.json").write_text(json.dumps(record))
    log = []
    again = reproduce(study, tmp_path, quick=True, log=log.append, run_here=run_here)
    assert log[0] == f"{len(runs) - 1} of {len(runs)} runs finished; running 1"
    assert [r.name for r in again if (r.dir / "results.json").is_file()] == [next(
        r.name for r in runs if r.command == first["command"])]
    table = lambda md: md.split("\n", 3)[3]  # noqa: E731 - the report below its header line
    new = json.loads((tmp_path / "bahdanau.json").read_text())
    assert len(new["sessions"]) == len(record["sessions"]) + 1 and new["sessions"][-1]["runs"] == 1
    assert new["sessions"][-1]["machine"] in (tmp_path / "bahdanau.md").read_text()
    rows = lambda folder: [ln for ln in table((folder / "bahdanau.md").read_text()).splitlines()  # noqa: E731
                           if ln.startswith("| no attention")]
    assert rows(tmp_path) and rows(tmp_path) == rows(out)  # the recorded runs' rows are as they were


def test_list_names_every_study_with_its_verdict_counts_and_a_wrong_one_is_one_error_line(capsys, tmp_path):
    verdicts = [{"verdict": v} for v in ("reproduced", "inconclusive", "reproduced", "not reproduced")]
    (tmp_path / "copy.json").write_text(json.dumps({"verdicts": verdicts}))
    assert main(["--list", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    listed = re.findall(r"^(\w+)\s+\d+ runs", out, re.M)
    assert listed == list(STUDIES) and len(listed) >= 12
    said = re.findall(r"^\s+verdicts: (.*)$", out, re.M)
    assert said[list(STUDIES).index("copy")] == "2 reproduced, 1 not reproduced, 1 inconclusive"
    assert said.count("no committed verdicts") == len(STUDIES) - 1
    assert main(["nope"]) == 2
    assert capsys.readouterr().err.strip() == ("error: unknown study 'nope'; choose one of " + ", ".join(STUDIES)
                                               + " (rnn-reproduce --list)")
    assert main(["copy", "--seeds", "2"]) == 2


def test_xdist_keeps_a_group_on_one_worker(request):
    """`make test` runs `--dist loadgroup`: each group (this module's, each task's) stays on one worker and shares
    its session fixture runs. A pytest/xdist pair that ignores the groups (pytest 9 with xdist 3.8) still passes
    every test but trains each fixture on every worker: this test notices."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None or not request.config.getoption("loadgroup", False):
        pytest.skip("only under pytest-xdist with --dist loadgroup")
    assert request.node.nodeid.endswith("@reproduce"), request.node.nodeid
