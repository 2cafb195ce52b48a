"""The docs are generated from results/ (rnnsuite.docsgen): the committed pages must be what the generator makes
of the committed results now, and the generator must notice every way a page can go stale."""
import json
import shutil
import statistics
from pathlib import Path

import pytest

from rnnsuite import docsgen

ROOT = Path(__file__).resolve().parents[2]


def test_committed_pages_are_current():
    problems = docsgen.check(ROOT)
    assert not problems, ("generated docs out of date (run `make docs` and commit the pages): "
                          + ", ".join(f"{p} ({why})" for p, why in problems))


@pytest.fixture()
def repo(tmp_path):
    """A small repository: one template, one ledger, one study with its report."""
    (tmp_path / "docs/_src").mkdir(parents=True)
    (tmp_path / "results/ledger").mkdir(parents=True)
    ledger = {"tables": {"t": {"columns": [["run", "label"], ["val", "val", ".3f"], ["command", "command"]],
                               "rows": [{"id": "a", "label": "seed 1", "command": "rnn-train seed=1",
                                         "figures": {"val": 2.0371}},
                                        {"id": "b", "label": "seed 2", "command": "rnn-train seed=2",
                                         "figures": {"val": 2.0514}}]}}}
    (tmp_path / "results/ledger/x.json").write_text(json.dumps(ledger))
    (tmp_path / "results/s.json").write_text(json.dumps({"runs": [{"key": {"seed": 1}, "results": {"n": 7}}]}))
    (tmp_path / "results/s.md").write_text("# s: a study\n\n## Table one\n\n| a |\n|---|\n| 1 |\n\n## Other\n\nx\n")
    (tmp_path / "docs/_src/page.md").write_text(
        "# Page\n\nval {{ value x t a val .2f }}, mean {{ mean x t val .3f }}, n = {{ fact s n }}\n\n"
        "{{ table x t }}\n\n{{ study s Table }}\n")
    docsgen.write(tmp_path)
    return tmp_path


def test_pages_show_the_sources_figures(repo):
    page = (repo / "docs/page.md").read_text()
    vals = [2.0371, 2.0514]
    expected_mean = f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals):.3f}"  # sample std, as the studies
    assert f"mean {expected_mean}," in page and "val 2.04," in page and "n = 7" in page
    assert "| seed 2 | 2.051 | `rnn-train seed=2` |" in page
    assert "**Table one**" in page and "| 1 |" in page and "Other" not in page  # only the section asked for
    assert "(../docs/studies/s.md)" not in page and "(studies/s.md)" in page    # linked from the page's place
    study = (repo / "docs/studies/s.md").read_text()
    assert study.splitlines()[1] == "# s: a study" and "## Other" in study
    assert docsgen.check(repo) == []


def test_check_finds_stale_missing_and_orphan_pages(repo):
    ledger = json.loads((repo / "results/ledger/x.json").read_text())
    ledger["tables"]["t"]["rows"][0]["figures"]["val"] = 2.5          # a figure changes in its one file
    (repo / "results/ledger/x.json").write_text(json.dumps(ledger))
    assert docsgen.check(repo) == [("docs/page.md", "stale")]
    docsgen.write(repo)
    assert "val 2.50," in (repo / "docs/page.md").read_text() and docsgen.check(repo) == []

    (repo / "docs/page.md").write_text((repo / "docs/page.md").read_text().replace("2.50", "2.40"))  # hand edit
    (repo / "docs/studies/s.md").unlink()
    assert sorted(docsgen.check(repo)) == [("docs/page.md", "stale"), ("docs/studies/s.md", "missing")]

    (repo / "docs/_src/page.md").write_text("# Page\n\n{{ table x t }}\n")
    docsgen.write(repo)
    (repo / "results/s.json").unlink()                                 # a study removed: its page goes too
    assert docsgen.check(repo) == [("docs/studies/s.md", "orphan")]
    docsgen.write(repo)
    assert not (repo / "docs/studies/s.md").exists()


@pytest.mark.parametrize("directive, message", [
    ("{{ table x nope }}", "has no table 'nope'"),
    ("{{ value x t a nope }}", "has no figure 'nope'"),
    ("{{ study s Missing }}", "no section whose heading starts with 'Missing'"),
    ("{{ wat }}", "unknown directive"),
    ("{{ table y t }}", "results/ledger/y.json does not exist"),
])
def test_a_bad_directive_is_one_error_line(repo, directive, message, capsys):
    (repo / "docs/_src/page.md").write_text(f"# Page\n\n{directive}\n")
    assert docsgen.main(["--root", str(repo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: docs/_src/page.md: ") and message in err and len(err.splitlines()) == 1


def test_check_exits_1_on_a_stale_page(repo, capsys):
    assert docsgen.main(["--root", str(repo), "--check"]) == 0
    (repo / "docs/page.md").write_text("edited by hand\n")
    assert docsgen.main(["--root", str(repo), "--check"]) == 1
    assert "stale: docs/page.md" in capsys.readouterr().err


def test_bench_json_renders_as_rnn_bench_writes_it(tmp_path):
    """A file as `rnn-bench --json` writes it (here the --quick one the bench's own test makes the same way) gives
    its cells and tasks tables."""
    (tmp_path / "docs/_src").mkdir(parents=True)
    (tmp_path / "results/bench").mkdir(parents=True)
    res = {"machine": {"cpu": "Some CPU", "flags": ["avx2"], "threads": 2, "torch": "2.x", "python": "3.11",
                       "date": "2026-01-01", "precision": "32-true", "gpu": None}, "quick": True, "repeats": 1,
           "cells": [{"cell": "lstm", "H": 32, "B": 8, "T": 10, "matmul_peak_gflops": 10.0, "fused_gflops": 5.0,
                      "fused_of_peak": 0.5, "step_gflops": 2.5, "step_of_peak": 0.25, "bf16_over_fp32": None,
                      "fused_over_step": 2.0}],
           "tasks": [{"task": "charlm", "precision": "32-true", "steps": 4, "bare_steps_per_s": 10.0,
                      "suite_steps_per_s": 9.0, "suite_over_bare": 0.9, "pipeline_batches_per_s": 1234.5,
                      "pipeline_over_model": 123.45, "chars_per_s_10": 1500.0, "peak_rss_mb": 900.0,
                      "suite_over_bare_bound": 0.95},
                     {"task": "music", "error": "ValueError: boom"}],
           "overhead": {"bare_ms": 0.5, "suite_ms": 1.0, "fixed_ms": 0.5}, "scaling": [], "figure": None}
    (tmp_path / "results/bench/run.json").write_text(json.dumps(res))
    (tmp_path / "docs/_src/perf.md").write_text("# Perf\n\n{{ bench }}\n")
    page = docsgen.build(tmp_path)["docs/perf.md"]
    assert "| lstm | 32 | 5.0 | 2.5 | 2.00 | 0.50 | 0.25 | 10.0 | not native |" in page
    assert "| charlm | 32-true | 9 | 10 | 0.90 | 0.95 | 1,234 | 123.5 | chars/s 10 1,500 | 900 |" in page
    assert "| music | failed: ValueError: boom |" in page
    assert "`--quick`" in page and "0.50 ms" in page


def test_the_real_sources_render(tmp_path):
    """The committed templates render from a copy of the repository's sources alone (nothing outside it)."""
    for rel in ("docs/_src", "results", "docs/figures"):
        shutil.copytree(ROOT / rel, tmp_path / rel, ignore=shutil.ignore_patterns("runs"))
    for f in (ROOT / "docs").glob("*.md"):
        shutil.copy(f, tmp_path / "docs" / f.name)
    pages = docsgen.build(tmp_path)
    assert "docs/textbook.md" in pages and "docs/studies/index.md" in pages
    assert all("{{" not in text for text in pages.values())


def test_a_table_can_leave_out_rows_not_measured_yet(repo):
    ledger = json.loads((repo / "results/ledger/x.json").read_text())
    ledger["tables"]["t"]["rows"].append({"id": "c", "label": "seed 3", "command": "rnn-train seed=3",
                                          "figures": {"val": None}})
    (repo / "results/ledger/x.json").write_text(json.dumps(ledger))
    (repo / "docs/_src/page.md").write_text("# Page\n\n{{ table x t }}\n\nmeasured:\n\n{{ table x t measured=val }}\n")
    page = docsgen.build(repo)["docs/page.md"]
    everything, measured = page.split("measured:")
    assert "| seed 3 | - |" in everything and "seed 3" not in measured
    assert "| seed 1 | 2.037 |" in measured and "| seed 2 | 2.051 |" in measured


def test_the_readme_is_generated_short_and_its_links_resolve():
    """The README is the generated page of docs/_src/README.md: under the ~250 lines issue 38 gives it, and every
    relative link in it (to a docs page, a heading of one) resolves from the repository's root."""
    import re
    text = (ROOT / "README.md").read_text()
    assert text.startswith("<!-- generated by `make docs`") and "docs/_src/README.md" in text.splitlines()[0]
    assert len(text.splitlines()) <= 250
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/tasks/") for link in local) and any("#" in link for link in local)
    for link in local:
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.is_file(), f"README links to {link}, which does not exist"
        if anchor:
            slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                     for h in re.findall(r"^#+ (.+)$", target.read_text(), re.M)}
            assert anchor in slugs, f"README links to {link}: {path} has no heading {anchor!r}"
