"""Claims as data, verdicts as output: what a study's paper claims, and whether its finished runs reproduce it.

A study lists `Claim`s. Each claim reduces the runs it names to one number per seed (a threshold on a statistic,
two groups compared, or a per-seed difference between two groups) and tests the claimed direction against the
spread of the seeds:

- *reproduced*: the claimed direction holds beyond the seeds' noise (one-sided t-test at 95% over >= 3 seeds; Welch's
  for two groups; with zero spread the sign decides);
- *not reproduced*: the opposite direction holds beyond the noise;
- *inconclusive*: within the noise, fewer than 3 seeds finished, or a run the claim needs stopped at its cap while
  its monitored metric was still improving (more training could change the answer, so it is never counted as a
  loss).

The verdict is computed, never written by hand; each carries a one-line reason. `judge` gives a claim's record
(its per-seed values, verdict and reason) as the study JSON stores it; `verdict_table` renders the records, and
`all_verdicts` / `all_verdicts_table` collect every study's records from results/*.json.
"""
import json
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)
MIN_SEEDS = 3
ALPHA = 0.05  # one-sided
# the claimed direction of (A - bound) or (A - B - bound); "at_least"/"at_most" compare one group with `bound`,
# "greater"/"less" compare group A (`where`) with group B (`versus`), per seed when `paired`
KINDS = {"at_least": 1, "greater": 1, "at_most": -1, "less": -1}


@dataclass
class Claim:
    id: str                  # short and stable, e.g. "lstm-solves-T500"
    text: str                # the checkable statement, with its threshold
    paper: str               # the paper's figure and where it comes from
    measure: object          # run -> number: the per-run statistic (one run per seed and group)
    kind: str                # at_least | at_most (against `bound`), greater | less (group A against group B)
    where: dict = field(default_factory=dict)  # the runs of group A, by their grid key, e.g. {"cell": "LSTM"}
    versus: dict = None      # group B (greater / less)
    bound: float = 0.0       # the threshold (at_least / at_most), or the margin A - B must clear (greater / less)
    paired: bool = False     # greater / less on the per-seed differences A - B (a trend or gap within each seed)
    digits: int = 3
    scale: float = 1.0       # for display only, e.g. 100 for a fraction shown in %
    unit: str = ""           # for display, e.g. "%"
    # A run stopped at its cap while still improving makes the claim inconclusive, except when the claim already
    # holds and more training can only strengthen it (e.g. "X leaves the baseline"): then it stays reproduced.
    more_training_helps: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        two = self.kind in ("greater", "less")
        if two != (self.versus is not None) or (self.paired and not two):
            raise ValueError(f"claim {self.id}: {self.kind} needs {'a' if two else 'no'} `versus` group"
                             + ("" if two or not self.paired else " and cannot be paired"))


# ---------------------------------------------------------------------------------------------- the decision
def _t_sf(t, df):
    from scipy import stats
    return float(stats.t.sf(t, df))


def _finite(values):
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def decide(a, kind, bound=0.0, b=None, fmt=None):
    """(verdict, reason) for per-seed values `a` (and `b` for an unpaired two-group claim) and the claimed direction:
    kind at_least / greater claims mean(a) - mean(b or 0) > bound, at_most / less claims < bound. Non-finite or
    missing values (a run that did not finish or diverged) are left out and do not count as seeds. `fmt` writes a
    value in the reason (e.g. as a percentage)."""
    _g = fmt or _num
    sign = KINDS[kind]
    a, b = _finite(a), (None if b is None else _finite(b))
    n = min(len(a), len(b)) if b is not None else len(a)
    if n < MIN_SEEDS:
        return INCONCLUSIVE, f"only {n} seed{'s' if n != 1 else ''} with a value (at least {MIN_SEEDS} needed)"
    diff = statistics.mean(a) - (statistics.mean(b) if b is not None else 0.0) - bound
    if b is None:
        var, df = statistics.variance(a) / len(a), len(a) - 1
    else:
        va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
        var = va + vb
        df = var ** 2 / ((va ** 2 / (len(a) - 1) if va else 0.0) + (vb ** 2 / (len(b) - 1) if vb else 0.0)) \
            if var else 0
    what = "the difference" if b is not None else "the mean"
    target = f"{'above' if sign > 0 else 'below'} {_g(bound)}"
    if var == 0:  # every seed gave the same value(s): no noise to test against, the sign decides
        if diff * sign > 0 or (diff == 0 and b is None):  # a threshold is inclusive, a comparison strict
            return REPRODUCED, f"{what} is {_g(diff + bound)} in every seed, {target if diff else 'on the bound'}"
        return NOT_REPRODUCED, f"{what} is {_g(diff + bound)} in every seed, not {target}"
    t = diff / math.sqrt(var)
    p_claim, p_opposite = _t_sf(sign * t, df), _t_sf(-sign * t, df)
    test = f"one-sided {'Welch ' if b is not None else ''}t-test, n = {n}"
    if p_claim < ALPHA:
        return REPRODUCED, f"{what} {_g(diff + bound)} is {target} beyond the seeds' noise (p = {p_claim:.2g}, {test})"
    if p_opposite < ALPHA:
        return NOT_REPRODUCED, (f"{what} {_g(diff + bound)} is on the wrong side of {_g(bound)} beyond the seeds' "
                                f"noise (p = {p_opposite:.2g}, {test})")
    return INCONCLUSIVE, (f"{what} {_g(diff + bound)} is within the seeds' noise of {_g(bound)} "
                          f"(p = {p_claim:.2g}, {test})")


def _num(x):
    return f"{x:.3g}"


# ---------------------------------------------------------------------------------------------- claims on runs
def _matches(run, where):
    return all(run.key.get(k) == v for k, v in where.items())


def _by_seed(claim, runs, where):
    """{seed: (run, value)} of the finished runs matching `where`."""
    out = {}
    for r in runs:
        if r.results is not None and _matches(r, where):
            try:
                value = claim.measure(r)
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                value = None  # the statistic is missing from this run (e.g. an older results.json)
            out[r.key["seed"]] = (r, None if value is None else float(value))
    return out


def one_machine(claim, runs):
    """The runs of the one machine kind that gives the claim the most seeds, and what its reason then adds. Seeds
    from different CPU kinds are never pooled (their kernels, precision and speed differ), so where a study's runs
    span kinds, each verdict uses one kind's seeds."""
    from .base import by_machine
    kinds = by_machine(runs)
    if len(kinds) < 2:
        return runs, ""
    wheres = [w for w in (claim.where, claim.versus) if w is not None]

    def seeds(group):
        n = [len(_by_seed(claim, group, w)) for w in wheres]
        return min(n), sum(n)
    best = max(kinds, key=lambda k: seeds(kinds[k]))
    left = sum(any(_matches(r, w) for w in wheres) for k, group in kinds.items() if k != best for r in group)
    if not left:
        return kinds[best], ""
    return kinds[best], f"; {best}'s seeds only ({left} run{'s' if left > 1 else ''} on other machines left out)"


def capped_while_improving(run):
    """Whether the run stopped at its step/epoch cap with its monitored metric still improving (`stop` in its
    results, see studies.base.stop_info); False when not recorded."""
    stop = (run.results or {}).get("stop") or {}
    return stop.get("by") == "cap" and bool(stop.get("still_improving"))


def judge(claim, runs):
    """The claim's record: its statement, per-seed values, verdict and reason (what the study JSON holds)."""
    def fmt(x):
        return f"{x * claim.scale:.{claim.digits}f}{claim.unit}" if claim.unit else f"{x * claim.scale:.3g}"
    runs, left_out = one_machine(claim, runs)
    a = _by_seed(claim, runs, claim.where)
    b = _by_seed(claim, runs, claim.versus) if claim.versus is not None else None
    if claim.paired:
        seeds = sorted(set(a) & set(b))
        values = {"seeds": seeds, "a": [_diff(a[s][1], b[s][1]) for s in seeds]}
        verdict, reason = decide(values["a"], claim.kind, claim.bound, fmt=fmt)
    else:
        values = {"seeds": sorted(a), "a": [a[s][1] for s in sorted(a)]}
        if b is not None:
            values |= {"seeds_b": sorted(b), "b": [b[s][1] for s in sorted(b)]}
        verdict, reason = decide(values["a"], claim.kind, claim.bound, values.get("b"), fmt=fmt)
    groups = [("A ", a), ("B ", b)] if b is not None else [("", a)]
    used = [r for _, g in groups for r, _ in g.values()]
    capped = [f"{label}seed {s}" for label, g in groups for s, (r, _) in sorted(g.items()) if capped_while_improving(r)]
    if capped and verdict != INCONCLUSIVE and not (verdict == REPRODUCED and claim.more_training_helps):
        verdict, reason = INCONCLUSIVE, (f"{len(capped)} run{'s' if len(capped) > 1 else ''} stopped at the cap "
                                         f"still improving ({', '.join(capped)}); without the cap: {verdict}, {reason}")
    elif capped:
        reason += f"; {len(capped)} run{'s' if len(capped) > 1 else ''} stopped at the cap still improving " \
                  f"({', '.join(capped)})"
    reason += left_out
    unknown = sum(not (r.results or {}).get("stop") for r in used)
    if unknown:
        reason += f"; whether {unknown} of its {len(used)} runs hit their cap is not recorded"
    return {"id": claim.id, "text": claim.text, "paper": claim.paper, "kind": claim.kind, "bound": claim.bound,
            "where": claim.where, "versus": claim.versus, "paired": claim.paired, "values": values,
            "ours": ours(claim, values), "verdict": verdict, "reason": reason}


def _diff(x, y):
    return None if x is None or y is None else x - y


def ours(claim, values):
    """'0.012 ± 0.003 (3 seeds)', 'A 9.00 ± 0.02 vs B 9.34 ± 0.05 (3 seeds each)', 'A − B 1.2 ± 0.3 (3 seeds)'."""
    def text(vals):
        vals = _finite(vals)
        if not vals:
            return "n/a", 0
        m, s = statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0
        return f"{m * claim.scale:.{claim.digits}f} ± {s * claim.scale:.{claim.digits}f}{claim.unit}", len(vals)

    a, na = text(values["a"])
    if claim.paired:
        return f"A − B: {a} ({na} seeds)"
    if claim.versus is None:
        return f"{a} ({na} seeds)"
    b, nb = text(values["b"])
    return f"A {a} vs B {b} ({na} and {nb} seeds)"


# ---------------------------------------------------------------------------------------------- rendering
def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def verdict_table(records):
    """The report's opening '## Verdict' section: one row per claim."""
    lines = ["## Verdict", ""]
    if not records:
        return "\n".join(lines + ["This study states no claim.", ""])
    lines += ["| claim | paper | ours (mean ± std, n seeds) | verdict | reason |", "|---|---|---|---|---|"]
    lines += [f"| {_cell(v['text'])} | {_cell(v['paper'])} | {_cell(v['ours'])} | **{v['verdict']}** | "
              f"{_cell(v['reason'])} |" for v in records]
    counted = counts(records)
    lines += ["", "Verdicts: " + ", ".join(f"{counted[k]} {k}" for k in VERDICTS) + ". A claim is reproduced when its "
              "direction holds beyond the seeds' noise (one-sided t-test at 95%, Welch's for two groups, over >= 3 "
              "seeds), not reproduced when the opposite does, and inconclusive otherwise, with fewer than 3 seeds, "
              "or when a run it needs stopped at its cap still improving.", ""]
    return "\n".join(lines)


def counts(records):
    c = Counter(v["verdict"] for v in records)
    return {k: c.get(k, 0) for k in VERDICTS}


def read_verdicts(path):
    """The verdict records of one study JSON (None when the file is absent or predates verdicts)."""
    path = Path(path)
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("verdicts")


def all_verdicts(results_dir="results"):
    """{study: [records]} of every results/*.json that holds verdicts, by file name."""
    found = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        records = read_verdicts(path)
        if records is not None:
            found[path.stem] = records
    return found


def all_verdicts_table(results_dir="results"):
    """One markdown table of every study's verdicts, from results/*.json alone (docs/studies/index.md's table)."""
    found = all_verdicts(results_dir)
    lines = ["| study | claim | paper | ours (mean ± std, n seeds) | verdict |", "|---|---|---|---|---|"]
    for study, records in found.items():
        lines += [f"| {study} | {_cell(v['text'])} | {_cell(v['paper'])} | {_cell(v['ours'])} | {v['verdict']} |"
                  for v in records]
    total = Counter(v["verdict"] for records in found.values() for v in records)
    lines += ["", f"{len(found)} studies, {sum(total.values())} claims: "
              + ", ".join(f"{total.get(k, 0)} {k}" for k in VERDICTS) + "."]
    return "\n".join(lines)

