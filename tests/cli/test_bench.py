"""`rnn-bench --quick`: every section of the table is produced, for every task, with sane values. No timing
is asserted (speed is measured by the benchmark, not judged by tests)."""
import json

from rnnsuite.cli.bench import suite_tasks
from tests.conftest import run_cli


def test_quick_bench_produces_the_whole_table(tmp_path, data_dir):
    out, fig = tmp_path / "bench.json", tmp_path / "bench.png"
    r = run_cli("rnn-bench", "--quick", "--repeats", "2", "--json", out, "--figure", fig)  # 2: a bare loop after a fit
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(out.read_text())
    one_layer = [c for c in res["cells"] if "label" not in c]
    assert {(c["cell"], c["H"]) for c in one_layer} == {(c, 32) for c in ("rnn", "lstm", "gru")}
    charlm = [c for c in res["cells"] if "label" in c]  # charlm's stack: its layers from the task's config
    assert [(c["cell"], c["layers"]) for c in charlm] == [("lstm", 2)] and "charlm default" in charlm[0]["label"]
    for c in res["cells"]:
        assert c["fused_gflops"] > 0 and c["step_gflops"] > 0 and c["matmul_peak_gflops"] > 0
    assert [t["task"] for t in res["tasks"]] == suite_tasks()
    for t in res["tasks"]:
        assert t["suite_steps_per_s"] > 0 and t["bare_steps_per_s"] > 0 and t["pipeline_batches_per_s"] > 0
        assert t["peak_rss_mb"] > 50  # torch alone is more than that: the child's own RSS, in MB
    o = res["overhead"]  # the suite Trainer's fixed cost per step, and each task's bound from it
    assert o["bare_ms"] > 0 and o["suite_ms"] > 0
    for t in res["tasks"]:
        assert t["suite_over_bare_bound"] == 1 / (1 + max(0.0, o["fixed_ms"]) / 1e3 * t["bare_steps_per_s"])
    decoding = {t["task"]: t for t in res["tasks"]}
    assert {"chars_per_s_10", "chars_per_s_100"} <= set(decoding["charlm"])
    assert {"sentences_per_s_beam1", "sentences_per_s_beam5"} <= set(decoding["translation"])
    assert "images_per_s" in decoding["captioning"]
    assert {(s["threads"], s["vary"]) for s in res["scaling"]} >= {(1, "T"), (1, "H"), (1, "B")}
    assert fig.stat().st_size > 10_000
    # the markdown table: a header and one row per cell and per task
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(res["cells"]) + len(suite_tasks())
