"""What a sweep found and what it cost: sweep_summary.json, sweep_summary.md and sweep.png in the sweep folder."""
import json
import statistics
import warnings
from pathlib import Path

import optuna
from optuna.trial import TrialState

from ..atomic import write_text


def _row(t):
    timing = t.user_attrs.get("timing", {})
    return {"number": t.number, "state": t.state.name, "value": t.value, "params": t.params,
            "epochs": len(t.intermediate_values), "train_seconds": timing.get("train_loop"),
            "run_dir": t.user_attrs.get("run_dir"),
            "test": t.user_attrs.get("test"), "error": t.user_attrs.get("error"),
            "worker": t.user_attrs.get("worker")}


def importances(study):
    """fANOVA importances over the complete trials; {} while there are too few to say."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 3:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
    except (RuntimeError, ValueError):  # e.g. every complete trial has the same parameters
        return {}


def pruning(trials):
    """How many trials were pruned, and the training time that saved: each pruned trial's missing epochs (up
    to the mean epochs of the complete trials) at that trial's own seconds per epoch."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.intermediate_values]
    pruned = [t for t in trials if t.state == TrialState.PRUNED and t.intermediate_values]
    out = {"pruned": len([t for t in trials if t.state == TrialState.PRUNED]), "epochs_run": [], "saved_seconds": None}
    if not complete or not pruned:
        return out
    full = statistics.mean(len(t.intermediate_values) for t in complete)
    saved = 0.0
    for t in pruned:
        run = len(t.intermediate_values)
        seconds = t.user_attrs.get("timing", {}).get("train_loop")
        if seconds:
            saved += max(0.0, full - run) * seconds / run
        out["epochs_run"].append(run)
    out.update(full_epochs=round(full, 2), saved_seconds=round(saved, 1))
    return out


def cost(study, trials):
    """Where the workers' time went, in total and per trial: process start-up (once per worker), the runs'
    set-up, their training loops, test and results, and the rest (Hydra's job set-up, ask/tell, summaries, and
    the time of trials that failed early). The sweep's overhead is everything but the training loops."""
    workers = [v for k, v in study.user_attrs.items() if k.startswith("worker ")]
    n = sum(w["trials"] for w in workers)
    if not n:
        return {}
    timings = [t.user_attrs.get("timing", {}) for t in trials]
    total = lambda key: sum(t.get(key, 0.0) for t in timings)  # noqa: E731
    startup = sum(w.get("startup_seconds") or 0.0 for w in workers)
    cycles = sum(w["cycle_seconds"] for w in workers)
    after = sum(t["total"] - t["fit"] - t["build_data_model"] - t["build_trainer"] for t in timings if "total" in t)
    parts = {"worker start-up (Python, imports, Hydra), once per worker": startup,
             "data and model set-up": total("build_data_model"), "Trainer set-up": total("build_trainer"),
             "fit set-up (sanity check, loaders)": total("fit") - total("train_loop"),
             "training loops (epochs + validation)": total("train_loop"),
             "test, baselines, results": after}
    parts["the rest (Hydra job set-up, ask/tell, summaries, failed trials)"] = \
        startup + cycles - sum(parts.values())
    wall = startup + cycles
    return {"workers": len(workers), "trials": n, "wall_seconds": round(wall, 1),
            "parts_seconds": {k: round(v, 1) for k, v in parts.items()},
            "overhead_fraction": round(1 - total("train_loop") / wall, 4) if wall else None}


def write_summary(study, sweep_dir, n_trials, storage, metric=None, plot=True):
    """The summary files; `plot=False` (after each batch) leaves out the importances and the figure, which the
    final summary of each worker adds."""
    sweep_dir = Path(sweep_dir)
    trials = study.get_trials(deepcopy=False)
    states, stale = {}, 0
    for t in trials:
        if t.state == TrialState.FAIL and "error" not in t.user_attrs:
            # a killed worker's trial (failed by the heartbeat check and run again) or a surplus ask
            stale += "not_run" not in t.user_attrs
            continue
        states[t.state.name] = states.get(t.state.name, 0) + 1
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    top = sorted(complete, key=lambda t: t.value, reverse=reverse)[:10]
    summary = {
        "study": study.study_name, "storage": storage, "direction": study.direction.name.lower(), "metric": metric,
        "n_trials": n_trials, "states": states, "stale": stale,
        "best": _row(top[0]) if top else None,
        "top10": [_row(t) for t in top],
        "importances": importances(study) if plot else {},
        "pruning": pruning(trials),
        "failed": [_row(t) for t in trials if t.state == TrialState.FAIL and "error" in t.user_attrs],
        "cost": cost(study, trials),
    }
    write_text(sweep_dir / "sweep_summary.json", json.dumps(summary, indent=2, default=str))
    write_text(sweep_dir / "sweep_summary.md", markdown(summary))
    if plot:
        plot_history(trials, summary, sweep_dir / "sweep.png")
    return summary


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def markdown(s):
    metric = s["metric"] or "value"
    states = ", ".join(f"{v} {k.lower()}" for k, v in sorted(s["states"].items()))
    lines = [f"# Optuna sweep `{s['study']}`", "",
             f"Storage `{s['storage']}`, study `{s['study']}`: {s['direction']} {metric}. "
             f"{sum(s['states'].values())} of {s['n_trials']} trials: {states}."
             + (f" Not counted: {s['stale']} trial(s) of a killed worker, failed by the heartbeat check and run "
                f"again." if s["stale"] else ""), "",
             f"Browse it: `optuna-dashboard {s['storage']}`", ""]
    b = s["best"]
    if b:
        params = ", ".join(f"`{k}={_fmt(v)}`" for k, v in b["params"].items())
        test = ", ".join(f"{k} {_fmt(v)}" for k, v in (b.get("test") or {}).items())
        lines += ["## Best trial", "", f"Trial {b['number']}: {metric} = {_fmt(b['value'])}, {params}", "",
                  f"Run folder: `{b['run_dir']}`" + (f"; test: {test}" if test else ""), ""]
        keys = list(b["params"])
        lines += ["## Top 10", "", f"| trial | {metric} | " + " | ".join(keys) + " | epochs | run folder |",
                  "|---" * (len(keys) + 4) + "|"]
        for r in s["top10"]:
            values = " | ".join(_fmt(r["params"].get(k, "")) for k in keys)
            lines.append(f"| {r['number']} | {_fmt(r['value'])} | {values} | {r['epochs']} | `{r['run_dir']}` |")
        lines.append("")
    if s["importances"]:
        lines += ["## Parameter importances (fANOVA over the complete trials)", "", "| parameter | importance |",
                  "|---|---|"] + [f"| {k} | {v:.3f} |" for k, v in s["importances"].items()] + [""]
    p = s["pruning"]
    lines += ["## Pruning", "", f"{p['pruned']} trials pruned."]
    if p["saved_seconds"] is not None:
        lines[-1] += (f" They stopped after {', '.join(map(str, sorted(p['epochs_run'])))} epochs, where the complete "
                      f"trials ran {p['full_epochs']} on average: about {p['saved_seconds'] / 60:.1f} min of training "
                      f"saved (each pruned trial's missing epochs at its own epoch time).")
    lines.append("")
    if s["failed"]:
        lines += ["## Failed trials", "", "| trial | parameters | error |", "|---|---|---|"]
        for r in s["failed"]:
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in r["params"].items())
            lines.append(f"| {r['number']} | {params} | {r['error'].splitlines()[0][:300]} |")
        lines.append("")
    c = s["cost"]
    if c:
        lines += ["## Where the time went", "",
                  f"{c['trials']} trials on {c['workers']} worker(s), {c['wall_seconds'] / 60:.1f} worker-minutes. "
                  f"Everything but the training loops (the sweep's overhead) is {100 * c['overhead_fraction']:.1f}% "
                  f"of it.", "", "| part | total s | per trial s |", "|---|---|---|"]
        lines += [f"| {k} | {v:.1f} | {v / c['trials']:.2f} |" for k, v in c["parts_seconds"].items()] + [""]
    return "\n".join(lines)


def plot_history(trials, s, out_png):
    from ..plots import figure, save_figure
    fig, (ax, bx) = figure(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    best, running = [], None
    maximize = s["direction"] == "maximize"
    for t in trials:
        if t.state == TrialState.COMPLETE:
            running = t.value if running is None else (max if maximize else min)(running, t.value)
            best.append((t.number, running))
    for state, marker, color in ((TrialState.COMPLETE, "o", "C0"), (TrialState.PRUNED, "x", "C1")):
        pts = [(t.number, t.value if state == TrialState.COMPLETE else list(t.intermediate_values.values())[-1])
               for t in trials if t.state == state and (t.value is not None or t.intermediate_values)]
        if pts:
            ax.scatter(*zip(*pts), marker=marker, color=color, label=f"{state.name.lower()} ({len(pts)})")
    failed = [t.number for t in trials if t.state == TrialState.FAIL and "error" in t.user_attrs]
    for i, n in enumerate(failed):
        ax.axvline(n, color="C3", alpha=0.4, lw=1, label=f"failed ({len(failed)})" if i == 0 else None)
    if best:
        ax.step(*zip(*best), where="post", color="C2", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(s["metric"] or "objective")
    ax.set_title(f"optimisation history: {s['study']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    imp = s["importances"]
    if imp:
        names = list(imp)[::-1]
        bx.barh(names, [imp[k] for k in names], color="C0")
        bx.set_xlabel("importance (fANOVA)")
    else:
        bx.text(0.5, 0.5, "importances need 3 complete trials", ha="center", va="center")
        bx.set_axis_off()
    bx.set_title("parameter importances")
    save_figure(fig, out_png)  # atomic: another worker may write the same summary
