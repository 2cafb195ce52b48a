"""What every study shares: its grid of `rnn-train` runs, running them resumably, and the report.

A study is cells × its own axis × seeds. Each run is one `rnn-train` command in its own folder
(`<out>/runs/<study>/<run>/`); a run whose results.json exists is finished and never runs again, so a study
can be stopped at any point and continued with the same command. The report (`<out>/<study>.md`, `.png`,
`.json`) is rebuilt from the finished runs every time.
"""
import itertools
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from ..plots import save_figure
from ..sweep.space import override

QUICK_SEEDS = 2  # --quick checks the pipeline (a mean ± std needs two runs), not the results

# Every study run logs to CSV only (metrics.csv feeds the curves) and prints no progress bar.
COMMON = ["logger=csv", "callbacks=quiet", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]


@dataclass
class Run:
    key: dict          # the run's place in the grid, e.g. {"cell": "LSTM", "T": 200, "seed": 1}
    overrides: list    # its rnn-train overrides
    dir: Path = None
    results: dict = None
    error: str = None
    recorded: dict = None  # its results as the committed <study>.json holds them (Study.records)

    @property
    def finished(self):
        return self.recorded is not None or (self.dir / "results.json").is_file()

    @property
    def name(self):
        return ",".join(f"{k}={v}" for k, v in self.key.items()).replace(" ", "_").replace("/", "-").replace(":", "")

    @property
    def command(self):
        return "rnn-train " + " ".join(shlex.quote(o) for o in self.overrides)

    def metrics(self):
        """The run's metrics.csv as a DataFrame (None if it has none)."""
        import pandas as pd
        path = self.dir / "csv" / "metrics.csv"
        return pd.read_csv(path) if path.is_file() else None


@dataclass
class Study:
    name: str
    title: str
    base: list                      # overrides of every run, e.g. ["experiment=vanishing"]
    axes: dict                      # axis -> {label: [overrides]}, e.g. {"cell": {"LSTM": ["cell=lstm"]}, ...}
    budget: str                     # what one run gets, said in the table
    report: object                  # report(study, runs) -> (markdown body, matplotlib figure)
    quick: list = field(default_factory=list)        # extra overrides in --quick: fixtures, a few steps
    quick_axes: dict = field(default_factory=dict)   # axis -> the labels kept in --quick
    rows: str = "cell"                               # the axis whose labels are the rows of the main table
    # A study longer than one sitting, on machines that do not keep run folders between sittings: a run that the
    # committed <study>.json holds with results counts as finished (only for reports that need no run folder).
    records: bool = False

    def runs(self, seeds, quick=False):
        seeds = QUICK_SEEDS if quick else seeds
        axes = {name: {label: ov for label, ov in values.items()
                       if not quick or name not in self.quick_axes or label in self.quick_axes[name]}
                for name, values in self.axes.items()}
        out = []
        for combo in itertools.product(*[list(v.items()) for v in axes.values()], range(1, seeds + 1)):
            *cells, seed = combo
            key = {name: label for name, (label, _) in zip(axes, cells)} | {"seed": seed}
            overrides = list(self.base) + [o for _, ov in cells for o in ov] + [f"seed={seed}"]
            out.append(Run(key, overrides + (list(self.quick) if quick else [])))
        return out


# ---------------------------------------------------------------------------------------------- running
def run_subprocess(run, wrap, threads=None):
    """`wrap python -m rnnsuite.cli.train ...`, e.g. with wrap = a CPU-slot runner that waits for a free core."""
    cmd = [*wrap, sys.executable, "-m", "rnnsuite.cli.train", *run.overrides, *COMMON,
           override("hydra.run.dir", str(run.dir))]
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)} if threads else {})}
    with open(run.dir / "train.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        lines = (run.dir / "train.log").read_text().strip().splitlines()
        errors = [ln for ln in lines if ln.startswith("error:")]
        raise RuntimeError((errors or lines or [f"exit code {proc.returncode}"])[-1])


def execute(runs, wrap=None, jobs=1, max_runs=None, log=print, run_here=None):
    """Run the unfinished runs (at most max_runs of them); a failed run is logged and left unfinished (the next
    call tries it again). Runs side by side (jobs > 1) share the cores: one thread each. `run_here(run)`, when
    given, trains one run in this process (no wrapper, one job): the CLI passes its own."""
    # seed by seed: a study stopped part-way has every grid cell for its first seeds, run on the same machine
    todo = sorted((r for r in runs if not r.finished), key=lambda r: r.key["seed"])
    log(f"{len(runs) - len(todo)} of {len(runs)} runs finished; running {len(todo[:max_runs])}")
    todo = todo[:max_runs]
    threads = 1 if jobs > 1 else None

    def one(i_run):
        i, run = i_run
        run.dir.mkdir(parents=True, exist_ok=True)
        (run.dir / "error.txt").unlink(missing_ok=True)  # from an earlier attempt
        started = time.time()
        try:
            run_subprocess(run, wrap or [], threads) if (wrap or jobs > 1 or run_here is None) else run_here(run)
            log(f"[{i + 1}/{len(todo)}] {run.name}: {time.time() - started:.0f} s")
        except Exception as e:  # noqa: BLE001 - one run's failure must not end the study
            (run.dir / "error.txt").write_text(f"{type(e).__name__}: {e}\n")
            log(f"[{i + 1}/{len(todo)}] {run.name}: FAILED ({type(e).__name__}: {e})")

    if jobs > 1:
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(one, enumerate(todo)))
    else:
        for item in enumerate(todo):
            one(item)
    return len(todo)


def collect(runs):
    for run in runs:
        path = run.dir / "results.json"
        run.results = json.loads(path.read_text()) if path.is_file() else run.recorded
        err = run.dir / "error.txt"
        run.error = err.read_text().strip() if run.results is None and err.is_file() else None
    return runs


# ---------------------------------------------------------------------------------------------- tables
def mean_std(values):
    """(mean, sample std, n) of the finite values; NaN/inf (a diverged run) are left out and counted apart."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not vals:
        return math.nan, math.nan, 0
    return statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0, len(vals)


def fmt_mean_std(values, digits=3, scale=1.0, pct=False):
    """'0.123 ± 0.004' (with '(2 of 3)' when some runs are missing or not finite)."""
    values = list(values)
    m, s, n = mean_std(values)
    if n == 0:
        return "n/a"
    spec = f".{digits}f" if not pct else ".1f"
    text = f"{m * scale:{spec}} ± {s * scale:{spec}}" + ("%" if pct else "")
    return text + (f" ({n} of {len(values)})" if n < len(values) else "")


MEAN_STD = re.compile(r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)%? ± (\d+(?:\.\d+)?(?:e-?\d+)?)")


def table(runs, row, col, value, header="mean ± std", **fmt):
    """Markdown: one row per `row` label, one column per `col` label (or one column named `header` when col is
    None), cells mean ± std over seeds."""
    rows = list(dict.fromkeys(r.key[row] for r in runs))
    cols = list(dict.fromkeys(r.key[col] for r in runs)) if col else [None]
    head = f"| {row} | " + " | ".join(f"{col} = {c}" if col else header for c in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]
    for rl in rows:
        cells = []
        for cl in cols:
            group = [r for r in runs if r.key[row] == rl and (col is None or r.key[col] == cl)]
            cells.append(fmt_mean_std([value(r) for r in group if r.results is not None], **fmt)
                         if any(r.results is not None for r in group) else "not run")
        lines.append(f"| {rl} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def group_values(runs, value, **key):
    """value(run) for the finished runs matching key (e.g. cell="LSTM", T=200)."""
    return [value(r) for r in runs if r.results is not None and all(r.key.get(k) == v for k, v in key.items())]


def series(runs, value, axis, labels, **key):
    """(means, stds) over seeds of value(run) along one axis (e.g. T = 50, 100, ...), for plotting."""
    stats = [mean_std(group_values(runs, value, **{axis: label}, **key)) for label in labels]
    return [m for m, _, _ in stats], [0.0 if math.isnan(s) else s for _, s, _ in stats]


def bars(ax, runs, value, axis, labels, hue=None, hues=(None,), ylabel=None, title=None):
    """Grouped bars of mean ± std over seeds: one group per `axis` label, one bar per `hue` label."""
    width = 0.8 / len(hues)
    for j, h in enumerate(hues):
        means, stds = series(runs, value, axis, labels, **({hue: h} if hue else {}))
        ax.bar([i + width * (j - (len(hues) - 1) / 2) for i in range(len(labels))], means, width, yerr=stds,
               capsize=3, label=h, color=f"C{j}" if hue else [f"C{i}" for i in range(len(labels))])
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")


# ---------------------------------------------------------------------------------------------- report
def commit():
    """The checkout's commit (with -dirty when tracked files differ), or the package version outside git."""
    root = Path(__file__).resolve().parents[3]
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        from importlib.metadata import version
        return f"rnnsuite {version('rnnsuite')}"


def machine():
    """The hardware a session's runs trained on (what a time-capped run reaches depends on it)."""
    import torch
    from ..training.precision import cpu_native_bf16
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    native, why = cpu_native_bf16()
    return f"{os.cpu_count()} cores, {why}" + ("" if native else " (float32)")


def duration(seconds):
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min" if m else f"{seconds:.0f} s"


def write_report(study, runs, out, command, sessions):
    """<out>/<study>.md, .png and .json (the per-run figures the tables come from)."""
    body, fig = study.report(study, runs)
    seconds = sum(s["seconds"] for s in sessions)
    commits = list(dict.fromkeys(s["commit"] for s in sessions))
    finished = sum(r.results is not None for r in runs)
    jobs = max(s.get("jobs", 1) for s in sessions)
    machines = list(dict.fromkeys(s["machine"] for s in sessions if s.get("machine")))
    example = next((r for r in runs), None)
    head = [f"# {study.title}", "",
            f"`{command}` · commit {', '.join(commits)} · total wall time {duration(seconds)}"
            + (f" ({jobs} runs at a time)" if jobs > 1 else "") + f" · {finished} of {len(runs)} runs finished"
            + (f" · on {'; '.join(machines)}" if machines else ""), "",
            f"**Budget per run:** {study.budget}", "",
            f"Each run is one command, e.g. `{example.command}` (plus `{' '.join(COMMON)}`); "
            f"its folder holds results.json and csv/metrics.csv.", ""]
    failed = [r for r in runs if r.error]
    tail = ["", "## Runs that failed", ""] + [f"- `{r.name}`: {r.error}" for r in failed] if failed else []
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / f"{study.name}.md", "\n".join(head) + "\n" + body.rstrip() + "\n" + "\n".join(tail) + "\n")
    save_figure(fig, out / f"{study.name}.png")
    data = {"study": study.name, "command": command, "sessions": sessions,
            "runs": [{"key": r.key, "command": r.command, "results": _slim(r.results), "error": r.error}
                     for r in runs]}
    write_text(out / f"{study.name}.json", json.dumps(data, indent=1, default=str) + "\n")


def _slim(results):
    """results.json without what is long and per-machine (paths, curves, images)."""
    if results is None:
        return None
    return {k: v for k, v in results.items()
            if k not in ("images", "run_dir", "best_checkpoint", "grad_norm_through_time")
            and not (isinstance(v, str) and os.path.isabs(v))}  # a path of the machine that ran it


def reproduce(study, out, seeds=3, quick=False, wrap=None, jobs=1, max_runs=None, command=None, log=print,
              run_here=None):
    """Run what is left of the study's grid, then write its report. Returns the runs."""
    out = Path(out)
    runs_dir = out / "runs" / study.name
    runs = study.runs(seeds, quick)
    for run in runs:
        run.dir = runs_dir / run.name
    state_path = runs_dir / "study.json"
    record_path = out / f"{study.name}.json"
    record = json.loads(record_path.read_text()) if study.records and record_path.is_file() else {}
    recorded = {r["command"]: r["results"] for r in record.get("runs", []) if r.get("results")}
    for run in runs:
        run.recorded = recorded.get(run.command)
    state = (json.loads(state_path.read_text()) if state_path.is_file()
             else {"sessions": record.get("sessions", [])})
    started = time.time()
    ran = execute(runs, wrap=wrap, jobs=jobs, max_runs=max_runs, log=log, run_here=run_here)
    if ran or not state["sessions"]:
        state["sessions"].append({"started": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
                                  "seconds": round(time.time() - started, 1), "runs": ran, "jobs": jobs,
                                  "commit": commit(), "machine": machine()})
        runs_dir.mkdir(parents=True, exist_ok=True)
        write_text(state_path, json.dumps(state, indent=1))
    collect(runs)
    write_report(study, runs, out, command or f"rnn-reproduce {study.name}", state["sessions"])
    log(f"wrote {out / (study.name + '.md')} and {study.name}.png")
    return runs

