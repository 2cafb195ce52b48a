"""The verdict logic on synthetic per-seed values: each case's expected verdict is worked out by hand (the one-sided
95% t quantiles of 2 and 4 degrees of freedom are 2.920 and 2.132), not by the code under test."""
import json
import math
from pathlib import Path

import pytest

from rnnsuite.studies.base import Run, stop_info, strict, write_report, Study
from rnnsuite.studies.verdict import (INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Claim, all_verdicts_table, decide,
                                      judge, read_verdicts)

T_2DF = 2.920  # one-sided 95% quantile of Student's t with 2 degrees of freedom (3 seeds)


def three(mean, sd):
    """Three values with exactly this mean and sample standard deviation."""
    return [mean - sd, mean, mean + sd]


def t_of(values, bound):
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return (m - bound) / (sd / math.sqrt(len(values)))


@pytest.mark.parametrize("values,kind,bound,expected", [
    ([0.99, 0.98, 1.00], "at_least", 0.95, REPRODUCED),         # t = 6.9
    ([0.90, 0.91, 0.89], "at_least", 0.95, NOT_REPRODUCED),     # t = -8.7
    ([0.94, 0.97, 0.95], "at_least", 0.95, INCONCLUSIVE),       # t = 0.38
    ([0.90, 0.91, 0.89], "at_most", 0.95, REPRODUCED),
    ([0.99, 0.98], "at_least", 0.95, INCONCLUSIVE),              # two seeds only
    ([0.99, 0.98, None, float("nan")], "at_least", 0.95, INCONCLUSIVE),  # a failed and a diverged seed don't count
    ([1.0, 1.0, 1.0], "at_least", 0.99, REPRODUCED),            # zero spread: the sign decides
    ([0.99, 0.99, 0.99], "at_least", 0.99, REPRODUCED),         # ... and a threshold is inclusive
    ([0.0, 0.0, 0.0], "at_least", 0.5, NOT_REPRODUCED),
    # just beyond and just inside the one-sided 95% bound of 3 seeds (a two-sided test would need 4.30)
    (three(1.0 + 3.0 / math.sqrt(3), 1.0), "at_least", 1.0, REPRODUCED),
    (three(1.0 + 2.8 / math.sqrt(3), 1.0), "at_least", 1.0, INCONCLUSIVE),
    (three(1.0 - 3.0 / math.sqrt(3), 1.0), "at_least", 1.0, NOT_REPRODUCED),
])
def test_a_threshold_claim(values, kind, bound, expected):
    verdict, reason = decide(values, kind, bound)
    assert verdict == expected, reason
    assert reason and "\n" not in reason


def test_the_constructed_cases_sit_where_the_quantile_says():
    assert t_of(three(1.0 + 3.0 / math.sqrt(3), 1.0), 1.0) == pytest.approx(3.0) and 3.0 > T_2DF
    assert t_of(three(1.0 + 2.8 / math.sqrt(3), 1.0), 1.0) == pytest.approx(2.8) and 2.8 < T_2DF


@pytest.mark.parametrize("a,b,kind,expected", [
    ([9.00, 9.02, 8.98], [9.34, 9.30, 9.38], "less", REPRODUCED),
    ([9.34, 9.30, 9.38], [9.00, 9.02, 8.98], "less", NOT_REPRODUCED),
    ([9.00, 9.30, 9.10], [9.10, 9.20, 9.05], "less", INCONCLUSIVE),   # the groups overlap
    ([9.0, 9.0, 9.0], [9.2, 9.2, 9.2], "less", REPRODUCED),            # zero spread in both: the sign decides
    ([9.2, 9.2, 9.2], [9.2, 9.2, 9.2], "less", NOT_REPRODUCED),        # ... and a comparison is strict
    ([9.00, 9.02, 8.98], [9.34, 9.30], "less", INCONCLUSIVE),          # group B has two seeds
])
def test_a_two_group_claim(a, b, kind, expected):
    assert decide(a, kind, 0.0, b)[0] == expected


def test_welch_uses_each_groups_own_spread():
    """A with 3 seeds of sd 0.01, B with 3 seeds of sd 0.3; difference 0.5. Welch: se = sqrt(0.01²/3 + 0.3²/3)
    = 0.1733, t = 2.885, df = (se²)² / ((0.01²/3)²/2 + (0.3²/3)²/2) = 2.004: t is below the 2-df quantile 2.920,
    so inconclusive; a pooled test (df 4, quantile 2.132) would call it reproduced."""
    a, b = three(1.0, 0.01), three(1.5, 0.3)
    assert decide(a, "less", 0.0, b)[0] == INCONCLUSIVE
    assert decide(a, "less", 0.0, three(1.6, 0.3))[0] == REPRODUCED  # t = 3.46


def run(key, results):
    r = Run(key, [])
    r.results = results
    return r


def runs_of(values, stop=None, **key):
    return [run({**key, "seed": s}, {"test": {"mse": v}, "stop": stop or {"by": "early", "still_improving": False}})
            for s, v in enumerate(values, 1)]


def test_judge_picks_the_runs_of_its_group_and_keeps_per_seed_values():
    runs = runs_of([0.01, 0.02, 0.015], cell="LSTM", T=400) + runs_of([0.17, 0.168, 0.171], cell="tanh", T=400)
    claim = Claim("lstm-leaves", "LSTM leaves the baseline at T = 400 (MSE <= 0.05)", "Le et al. 2015, Fig. 2",
                  lambda r: r.results["test"]["mse"], "at_most", where={"cell": "LSTM", "T": 400}, bound=0.05)
    rec = judge(claim, runs)
    assert rec["verdict"] == REPRODUCED
    assert rec["values"] == {"seeds": [1, 2, 3], "a": [0.01, 0.02, 0.015]}
    assert rec["ours"] == "0.015 ± 0.005 (3 seeds)"
    versus = Claim("gap", "tanh's MSE above LSTM's", "-", lambda r: r.results["test"]["mse"], "greater",
                   where={"cell": "tanh"}, versus={"cell": "LSTM"})
    assert judge(versus, runs)["verdict"] == REPRODUCED


def test_a_run_capped_while_improving_makes_the_claim_inconclusive_never_not_reproduced():
    capped = {"by": "cap", "still_improving": True}
    falling = runs_of([0.16, 0.15, 0.17], capped, cell="LSTM")  # on the baseline at its cap, but still falling
    claim = Claim("solves", "LSTM solves it (MSE <= 0.01)", "-", lambda r: r.results["test"]["mse"], "at_most",
                  where={"cell": "LSTM"}, bound=0.01, more_training_helps=True)
    rec = judge(claim, falling)
    assert rec["verdict"] == INCONCLUSIVE and "cap" in rec["reason"] and "not reproduced" in rec["reason"]
    # the same values from runs that stopped early (converged) are a clear "not reproduced"
    assert judge(claim, runs_of([0.16, 0.15, 0.17], cell="LSTM"))["verdict"] == NOT_REPRODUCED
    # a run at its cap that was no longer improving is no reason to doubt
    flat = {"by": "cap", "still_improving": False}
    assert judge(claim, runs_of([0.16, 0.15, 0.17], flat, cell="LSTM"))["verdict"] == NOT_REPRODUCED
    # already solved and still improving: more training only strengthens "solves"
    assert judge(claim, runs_of([0.002, 0.003, 0.001], capped, cell="LSTM"))["verdict"] == REPRODUCED
    # ... but a claim that more training could overturn ("stays on the baseline") is inconclusive
    stays = Claim("stays", "tanh stays on the baseline (MSE >= 0.15)", "-", lambda r: r.results["test"]["mse"],
                  "at_least", where={"cell": "LSTM"}, bound=0.15)
    assert judge(stays, runs_of([0.166, 0.167, 0.168], capped, cell="LSTM"))["verdict"] == INCONCLUSIVE


def test_a_paired_claim_tests_the_per_seed_differences():
    # B is below A by 0.1-0.3 in each seed, while the groups' spread across seeds (~0.5) is larger than the gap
    a = runs_of([1.0, 2.0, 1.5], model="attention")
    b = runs_of([0.8, 1.7, 1.4], model="none")
    mse = lambda r: r.results["test"]["mse"]  # noqa: E731
    paired = Claim("gap", "attention above none", "-", mse, "greater", where={"model": "attention"},
                   versus={"model": "none"}, paired=True)
    unpaired = Claim("gap", "attention above none", "-", mse, "greater", where={"model": "attention"},
                     versus={"model": "none"})
    assert judge(paired, a + b)["verdict"] == REPRODUCED  # differences 0.2, 0.3, 0.1: t = 3.46
    assert judge(unpaired, a + b)["verdict"] == INCONCLUSIVE
    assert judge(paired, a + b)["values"]["a"] == pytest.approx([0.2, 0.3, 0.1])


def test_a_claim_that_names_a_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="versus"):
        Claim("x", "x", "x", abs, "less", where={})
    with pytest.raises(ValueError, match="kind"):
        Claim("x", "x", "x", abs, "bigger")


def write_run(folder, values, max_steps, early_stop_at=None):
    """A run folder: config.yaml and metrics.csv with one validation of val/mse per 100 steps."""
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(f"trainer:\n  max_steps: {max_steps}\n  max_epochs: -1\n"
                                        "monitor:\n  metric: val/mse\n  mode: min\n")
    rows = ["epoch,step,val/mse,test/mse"] + [f"0,{100 * (i + 1) - 1},{v}," for i, v in enumerate(values)]
    last = early_stop_at or max_steps
    rows.append(f"1,{last},,0.1")
    (folder / "csv").mkdir()
    (folder / "csv" / "metrics.csv").write_text("\n".join(rows) + "\n")
    r = Run({"seed": 1}, [], dir=folder)
    r.results = {}
    return r


def test_stop_info_tells_a_run_cut_off_while_falling_from_a_plateau_and_an_early_stop(tmp_path):
    falling = write_run(tmp_path / "a", [0.17] * 8 + [0.12, 0.08], 1000)
    info = stop_info(falling)
    assert info["by"] == "cap" and info["still_improving"] and info["best_in_last_fifth"] == 0.08
    # a new best in the last fifth, but by 0.3% (0.1675 against 0.1680): noise on a plateau, not progress
    plateau = write_run(tmp_path / "b", [0.170, 0.168, 0.169, 0.1685, 0.169, 0.1688, 0.1690, 0.1684, 0.1689, 0.1675],
                        1000)
    assert stop_info(plateau)["by"] == "cap" and not stop_info(plateau)["still_improving"]
    early = write_run(tmp_path / "c", [0.1, 0.05, 0.04, 0.04, 0.041, 0.042], 5000, early_stop_at=600)
    assert stop_info(early)["by"] == "early"


def test_the_study_json_is_strict_and_holds_the_verdicts_and_the_all_studies_table_reads_them(tmp_path):
    claim = Claim("solves", "it solves (MSE <= 0.05)", "paper fig. 1", lambda r: r.results["test"]["mse"],
                  "at_most", bound=0.05)

    def report(study, runs):
        from rnnsuite.plots import figure
        fig, _ = figure()
        return "body", fig

    study = Study("toy", "toy: a study", [], {}, "none", report, claims=[claim])
    runs = runs_of([0.01, 0.02, float("nan")], cell="x")
    for r in runs:
        r.results["test"]["inf"] = float("inf")
    sessions = [{"seconds": 1.0, "commit": "abc"}]
    write_report(study, runs, tmp_path, "rnn-reproduce toy", sessions)

    def no_constants(name):
        raise AssertionError(f"{name} in the JSON")
    data = json.loads((tmp_path / "toy.json").read_text(), parse_constant=no_constants)
    assert data["runs"][2]["results"]["test"]["mse"] is None and data["runs"][0]["results"]["test"]["inf"] is None
    assert data["verdicts"][0]["values"]["a"] == [0.01, 0.02, None]
    assert data["verdicts"][0]["verdict"] == INCONCLUSIVE  # the third seed's value is not a number: 2 seeds
    md = (tmp_path / "toy.md").read_text()
    lines = md.splitlines()
    assert lines[0] == "# toy: a study" and lines[4] == "## Verdict"
    assert "| it solves (MSE <= 0.05) | paper fig. 1 | 0.015 ± 0.007 (2 seeds) | **inconclusive** |" in md
    assert read_verdicts(tmp_path / "toy.json") == data["verdicts"]
    (tmp_path / "other.json").write_text(json.dumps({"verdicts": [dict(data["verdicts"][0], verdict=REPRODUCED)]}))
    (tmp_path / "old.json").write_text(json.dumps({"runs": []}))  # a study JSON from before verdicts: left out
    table = all_verdicts_table(tmp_path)
    assert table.count("| it solves") == 2 and "| other |" in table and "| toy |" in table and "| old |" not in table
    assert "2 studies, 2 claims: 1 reproduced, 0 not reproduced, 1 inconclusive." in table
    assert strict({"a": [float("-inf"), 1.5]}) == {"a": [None, 1.5]}
    assert Path(tmp_path / "toy.png").is_file()


def test_a_run_that_diverged_is_not_still_improving(tmp_path):
    """Its validations turn NaN after a few falling ones: it stopped at its cap, but nothing was improving."""
    run = write_run(tmp_path / "d", [0.17, 0.16, 0.15, 0.14, 0.13, 0.12, 0.11, 0.10, "nan", "nan"], 1000)
    info = stop_info(run)
    assert info["by"] == "cap" and not info["still_improving"] and info["best_before_last_fifth"] == 0.11


def test_a_machine_read_from_a_precision_note_joins_the_recorded_cpu_it_agrees_with():
    from rnnsuite.studies.base import machine_from_note, machine_label, same_kind
    avx2 = {"cpu": "AMD EPYC", "cores": 2, "flags": "avx2", "torch": "2"}
    bf16 = {"cpu": "AMD EPYC", "cores": 2, "flags": "avx2 avx512f avx512_bf16", "torch": "2"}
    no_bf16 = machine_from_note({"precision": {"why": "auto on cpu: AMD EPYC has no native bf16 (no ...)"}})
    has_bf16 = machine_from_note({"precision": {"why": "auto on cpu: AMD EPYC has avx512_bf16"}})
    assert same_kind(no_bf16, [avx2, no_bf16]) == avx2  # one AVX2 EPYC, not two machines
    assert same_kind(no_bf16, [bf16, no_bf16]) == no_bf16  # the note says no bf16: not the bf16 EPYC
    assert same_kind(has_bf16, [avx2, bf16, has_bf16]) == bf16
    assert machine_label(same_kind(no_bf16, [no_bf16])) == "AMD EPYC (no avx512_bf16/amx_bf16)"


def test_seeds_of_different_cpu_kinds_are_not_pooled():
    avx2 = {"cpu": "AMD EPYC", "cores": 2, "flags": "avx2", "torch": "2"}
    bf16 = {"cpu": "AMD EPYC", "cores": 2, "flags": "avx2 avx512f avx512_bf16", "torch": "2"}

    def on(machine, values, first=1, **key):
        out = [run({**key, "seed": s}, {"test": {"mse": v}, "stop": {"by": "early", "still_improving": False}})
               for s, v in enumerate(values, first)]
        for r in out:
            r.results["machine"] = machine
        return out
    leaves = Claim("leaves", "LSTM's MSE <= 0.05", "-", lambda r: r.results["test"]["mse"], "at_most",
                   where={"cell": "LSTM"}, bound=0.05)
    # pooled, seeds 4-5 of the other CPU would put the mean (0.13) above the bound; alone, the three seeds of the
    # bf16 machine hold it (t = -8.7)
    runs = on(bf16, [0.01, 0.02, 0.015], cell="LSTM") + on(avx2, [0.30, 0.31], first=4, cell="LSTM")
    rec = judge(leaves, runs)
    assert rec["verdict"] == REPRODUCED and rec["values"]["a"] == [0.01, 0.02, 0.015]
    assert "avx512_bf16" in rec["reason"] and "2 runs on other machines left out" in rec["reason"]
    # a comparison takes both groups from the one kind where both have seeds, even if another has more of one
    gap = Claim("gap", "tanh's MSE above LSTM's", "-", lambda r: r.results["test"]["mse"], "greater",
                where={"cell": "tanh"}, versus={"cell": "LSTM"})
    runs = (on(avx2, [0.5, 0.5, 0.5, 0.5], cell="LSTM") + on(bf16, [0.01, 0.02, 0.015], cell="LSTM")
            + on(bf16, [0.17, 0.168, 0.171], cell="tanh"))
    rec = judge(gap, runs)
    assert rec["verdict"] == REPRODUCED and rec["values"]["b"] == [0.01, 0.02, 0.015]
    # one kind only: nothing is left out and the reason says nothing of machines
    assert "machines" not in judge(leaves, on(bf16, [0.01, 0.02, 0.015], cell="LSTM"))["reason"]
