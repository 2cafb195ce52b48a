"""What every study shares: its grid of `rnn-train` runs, running them resumably, and the report.

A study is cells × its own axis × seeds. Each run is one `rnn-train` command in its own folder
(`<out>/runs/<study>/<run>/`); a run whose results.json exists is finished and never runs again, so a study
can be stopped at any point and continued with the same command. The report (`<out>/<study>.md`, `.png`,
`.json`) is rebuilt from the finished runs every time, and opens with the verdict on each of the study's claims
(studies.verdict). The JSON is the source of every number the report shows: per run its results, the machine it
ran on, how it stopped (at its cap or early, still improving or not) and the traces the figure needs.
"""
import itertools
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from ..plots import save_figure
from ..sweep.space import override
from .verdict import counts, judge, verdict_table

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
    # its results as the committed <study>.json holds them: a run recorded there with results counts as finished,
    # so a study longer than a sitting resumes on a checkout without run folders, and every report is rebuilt
    # from the JSON alone
    recorded: dict = None
    last: bool = False  # run after the others whatever its seed (a one-seed diagnostic beside the grid)

    @property
    def finished(self):
        return self.recorded is not None or ((self.dir / "results.json").is_file() and not self.stale)

    @property
    def stale(self):
        """Its folder holds a run of another command (the study's grid or budget changed since that ran; the
        folder is named by the run's key alone): neither its results nor its checkpoints are this run's."""
        path = self.dir / "command.txt"
        return path.is_file() and path.read_text().strip() != self.command

    @property
    def name(self):
        return ",".join(f"{k}={v}" for k, v in self.key.items()).replace(" ", "_").replace("/", "-").replace(":", "")

    @property
    def command(self):
        return "rnn-train " + " ".join(shlex.quote(o) for o in self.overrides)

    @property
    def resume(self):
        """`resume=<its last.ckpt>` for a run that a cut-off sitting left part-way (its folder has a last.ckpt and
        no results.json): the next sitting reads on from there instead of starting it again, so a run longer than
        a sitting still ends. Else no override."""
        last = self.dir / "checkpoints" / "last.ckpt"
        return [override("resume", str(last))] if last.is_file() and not self.finished and not self.stale else []

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
    claims: list = field(default_factory=list)       # the paper's claims (verdict.Claim), judged on the runs
    # run -> {name: list}: what the report's figure reads from a run folder (curves), kept in the study JSON so
    # that the figure can be rebuilt from the repository alone
    traces: object = None
    keep: object = None     # key -> bool: the grid's combinations to run (None: all), e.g. a protocol's own lengths

    def runs(self, seeds, quick=False):
        seeds = QUICK_SEEDS if quick else seeds
        axes = {name: {label: ov for label, ov in values.items()
                       if not quick or name not in self.quick_axes or label in self.quick_axes[name]}
                for name, values in self.axes.items()}
        out = []
        for combo in itertools.product(*[list(v.items()) for v in axes.values()], range(1, seeds + 1)):
            *cells, seed = combo
            key = {name: label for name, (label, _) in zip(axes, cells)} | {"seed": seed}
            if self.keep is not None and not self.keep(key):
                continue
            overrides = list(self.base) + [o for _, ov in cells for o in ov] + [f"seed={seed}"]
            out.append(Run(key, overrides + (list(self.quick) if quick else [])))
        return out


# ---------------------------------------------------------------------------------------------- running
def run_subprocess(run, wrap, threads=None):
    """`wrap rnn-train ...`, e.g. with wrap = a CPU-slot runner that waits for a free core."""
    from ..run import console_command
    resume = run.resume
    cmd = [*wrap, *console_command("rnn-train"), *run.overrides, *resume, *COMMON,
           override("hydra.run.dir", str(run.dir))]
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)} if threads else {})}
    with open(run.dir / "train.log", "a" if resume else "w") as log:  # a resumed run's log goes on
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
    todo = sorted((r for r in runs if not r.finished), key=lambda r: (r.last, r.key["seed"]))
    log(f"{len(runs) - len(todo)} of {len(runs)} runs finished; running {len(todo[:max_runs])}")
    todo = todo[:max_runs]
    threads = 1 if jobs > 1 else None

    def one(i_run):
        i, run = i_run
        if run.stale:  # another command's run: kept beside, out of the way
            run.dir.rename(run.dir.with_name(f"{run.dir.name}.other-{time.strftime('%Y%m%d-%H%M%S')}"))
        run.dir.mkdir(parents=True, exist_ok=True)
        write_text(run.dir / "command.txt", run.command + "\n")
        (run.dir / "error.txt").unlink(missing_ok=True)  # from an earlier attempt
        started = time.time()
        try:
            run_subprocess(run, wrap or [], threads) if (wrap or jobs > 1 or run_here is None) else run_here(run)
            write_text(run.dir / "machine.json", json.dumps(run_machine()))  # the runs train on this machine
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


def collect(runs, study=None):
    """Each run's results: its results.json (with the machine, how it stopped and the study's traces, read from
    its folder) or, without a folder, what the committed study JSON recorded."""
    for run in runs:
        path = run.dir / "results.json"
        if path.is_file() and not run.stale:
            run.results = json.loads(path.read_text())
            mpath = run.dir / "machine.json"
            run.results["machine"] = json.loads(mpath.read_text()) if mpath.is_file() else None
            run.results["stop"] = stop_info(run)
            if study is not None and study.traces is not None:
                run.results["traces"] = study.traces(run)
        else:
            run.results = run.recorded
        if run.results is not None and not run.results.get("machine"):
            run.results["machine"] = machine_from_note(run.results)
        err = run.dir / "error.txt"
        run.error = err.read_text().strip() if run.results is None and err.is_file() else None
    return runs


IMPROVING = 0.01  # a new best this much better (relative) in the last fifth of the validations: still improving


def stop_info(run):
    """How a finished run stopped, from its folder: `by` "cap" (it used all of max_steps / max_epochs / max_time)
    or "early" (early stopping: patience, a threshold), the final step and epoch, and `still_improving`: its
    monitored metric's best in the last fifth of its validations beat the best before by more than 1% (the run
    was cut off while it was still getting better). None when the folder lacks config.yaml or metrics.csv."""
    from omegaconf import OmegaConf
    df, cfg_path = run.metrics(), run.dir / "config.yaml"
    if df is None or not cfg_path.is_file() or "step" not in df:
        return None
    cfg = OmegaConf.load(cfg_path)
    tr, metric, mode = cfg.trainer, cfg.monitor.metric, cfg.monitor.mode
    test = df[[c for c in df if c.startswith("test/")]].notna().any(axis=1)
    end = df[test].iloc[-1] if test.any() else df.iloc[-1]  # the test row is logged at the final step and epoch
    step, epoch = int(end["step"]), int(end["epoch"]) if "epoch" in df and end["epoch"] == end["epoch"] else None
    max_steps, max_epochs = tr.get("max_steps") or -1, tr.get("max_epochs")
    capped = (max_steps > 0 and step >= max_steps) or (max_epochs is not None and max_epochs > 0
                                                         and epoch is not None and epoch >= max_epochs)
    max_time = seconds(tr.get("max_time"))
    loop = (run.results or {}).get("timing", {}).get("train_loop")
    if not capped and max_time and loop is not None:
        capped = loop >= max_time - 60  # stopped by the clock (within a minute of it), not by early stopping
    vals = []
    if metric in df:  # as written ("nan" where a validation scored NaN, "" where a row is not a validation)
        import pandas as pd
        raw = pd.read_csv(run.dir / "csv" / "metrics.csv", dtype=str, keep_default_na=False)
        vals = [float(v) for v in raw[metric] if v != ""]
    diverged = any(not math.isfinite(v) for v in vals[-1:])  # ended on NaN/inf: not improving
    vals = [v for v in vals if math.isfinite(v)]
    k = max(1, len(vals) // 5)
    before, last = vals[:-k], vals[-k:]
    sign = 1 if mode == "min" else -1
    best_before = min(v * sign for v in before) * sign if before else None
    best_last = min(v * sign for v in last) * sign if last else None
    improving = bool(before) and not diverged and (best_before - best_last) * sign > IMPROVING * abs(best_before)
    return {"by": "cap" if capped else "early", "step": step, "epoch": epoch, "monitor": metric,
            "validations": len(vals), "best_before_last_fifth": best_before, "best_in_last_fifth": best_last,
            "still_improving": improving}


def seconds(max_time):
    """trainer.max_time ("DD:HH:MM:SS" or {days, hours, minutes, seconds}) in seconds; None when unset."""
    if not max_time:
        return None
    if isinstance(max_time, str):
        d, h, m, s = (float(x) for x in max_time.split(":"))
        return ((d * 24 + h) * 60 + m) * 60 + s
    return sum(float(max_time.get(k, 0)) * f for k, f in (("days", 86400), ("hours", 3600), ("minutes", 60),
                                                            ("seconds", 1)))


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


SIMD = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")  # what decides a CPU's float32/bf16 speed and its kernels


def run_machine():
    """The machine a run trained on, as the study JSON records it per run: CPU model, cores and vector flags (or
    the GPU)."""
    import torch
    from ..training.precision import cpu_flags, cpu_name
    if torch.cuda.is_available():
        return {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__}
    flags = cpu_flags()
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "flags": " ".join(f for f in SIMD if f in flags) or "none of "
            + "/".join(SIMD), "torch": torch.__version__}


def machine_from_note(results):
    """For a run recorded before machines were kept per run: the CPU its precision note names ("auto on cpu: AMD
    EPYC has avx512_bf16"), marked as such; None when the note names none."""
    why = (results.get("precision") or {}).get("why") or ""
    m = re.search(r"on cpu: (?:the task prefers it; )?(.+?) has (no native bf16|[\w+]+)", why)
    if not m:
        return None
    flags = "no avx512_bf16/amx_bf16" if m.group(2).startswith("no") else m.group(2).replace("+", " ")
    return {"cpu": m.group(1), "flags": flags, "from": "the run's precision note"}


def same_kind(m, recorded):
    """A machine read from a run's precision note (CPU name, bf16 or not) as the fully recorded one of the same CPU
    that it agrees with, so that one CPU kind is not counted as two; otherwise as it is."""
    if not m or m.get("from") is None:
        return m
    for full in recorded:
        full_bf16 = bool(full) and ("avx512_bf16" in full["flags"] or "amx_bf16" in full["flags"])
        same_cpu = full and full.get("from") is None and full.get("cpu") == m["cpu"]
        if same_cpu and m["flags"].startswith("no") != full_bf16:
            return full
    return m


def by_machine(runs):
    """{machine label: the finished runs trained on that CPU kind (or GPU)}, in the runs' order."""
    recorded = [r.results.get("machine") for r in runs if r.results]
    out = {}
    for r in runs:
        if r.results is not None:
            out.setdefault(machine_label(same_kind(r.results.get("machine"), recorded)), []).append(r)
    return out


def machine_label(m):
    if not m:
        return "unknown"
    return m.get("gpu") or f"{m.get('cpu')} ({m.get('flags')})"


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
    """<out>/<study>.md, .png and .json (the per-run figures the tables come from, each claim's per-seed values
    and verdict). The report opens with the verdict table."""
    body, fig = study.report(study, runs)
    verdicts = [judge(c, runs) for c in study.claims]
    seconds = sum(s["seconds"] for s in sessions)
    commits = list(dict.fromkeys(s["commit"] for s in sessions))
    finished = sum(r.results is not None for r in runs)
    jobs = max(s.get("jobs", 1) for s in sessions)
    machines = list(dict.fromkeys(s["machine"] for s in sessions if s.get("machine")))
    per_run = list(by_machine(runs))
    machines = machines or [m for m in per_run if m != "unknown"]  # sittings from before they were recorded
    example = next((r for r in runs), None)
    # what the runs took themselves, start to results.json: the wall time also counts the waits for a CPU slot
    own = sum(60 * r.results["minutes"] for r in runs if r.results and r.results.get("minutes") is not None)
    own = own if own < 0.5 * seconds * max(1, jobs) else 0  # said only where waiting made the difference
    head = [f"# {study.title}", "",
            f"`{command}` · commit {', '.join(commits)} · "
            + (f"total wall time {duration(seconds)}" if seconds else "wall time not recorded (the finished runs "
               "ran in a sitting that was cut off before its record was written)")
            + (f" ({jobs} runs at a time)" if jobs > 1 and seconds else "")
            + (f" · the runs' own time {duration(own)} (the rest: starting processes and waiting for a free CPU "
               "slot)" if own else "")
            + f" · {finished} of {len(runs)} runs finished"
            + (f" · on {'; '.join(machines)}" if machines else ""), "",
            *([f"**The runs ran on {len(per_run)} machines:** {'; '.join(per_run)} (each run's is in the JSON).",
               ""] if len(per_run) > 1 else []),
            verdict_table(verdicts),
            f"**Budget per run:** {study.budget}", "",
            f"Each run is one command, e.g. `{example.command}` (plus `{' '.join(COMMON)}`); "
            f"its folder holds results.json and csv/metrics.csv.", ""]
    failed = [r for r in runs if r.error]
    tail = ["", "## Runs that failed", ""] + [f"- `{r.name}`: {r.error}" for r in failed] if failed else []
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / f"{study.name}.md", "\n".join(head) + "\n" + body.rstrip() + "\n" + "\n".join(tail) + "\n")
    save_figure(fig, out / f"{study.name}.png")
    data = {"study": study.name, "command": command, "sessions": sessions, "verdict_counts": counts(verdicts),
            "verdicts": verdicts,
            "runs": [{"key": r.key, "command": r.command, "results": _slim(r.results), "error": r.error}
                     for r in runs]}
    write_text(out / f"{study.name}.json", json.dumps(strict(data), indent=1, default=str, allow_nan=False) + "\n")


def strict(obj):
    """obj with every NaN/inf float as None: the study JSON is strict JSON (null, never NaN or Infinity)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    return obj


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
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
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
    collect(runs, study)
    write_report(study, runs, out, command or f"rnn-reproduce {study.name}", state["sessions"])
    log(f"wrote {out / (study.name + '.md')} and {study.name}.png")
    return runs

