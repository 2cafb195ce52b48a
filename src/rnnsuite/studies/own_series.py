"""own_series: the forecaster on public series it was not built on, run exactly as a user runs their own CSV
(`data=csv data.path=... data.target=...`, the step inferred and everything else following it), against every
baseline on the same test windows."""
from .base import Study, bars, fmt_mean_std
from .short_series import blend_choice
from .verdict import Claim


def csv(name, target, *extra):
    """The user's command for a fetched series (`rnn-data fetch NAME` writes the file; a missing one is fetched)."""
    return ["data=csv", f"data.path=${{paths.data_dir}}/raw/{name}/{name}.csv", f"data.target={target}", *extra]


SERIES = {
    "EWR temperature, hourly": csv("ewr_weather", "temp", "data.fill_gaps=interpolate", "data.fill_na=interpolate"),
    "US births, daily": csv("us_births", "births"),
    "Chicago ridership, daily": csv("chicago_ridership", "ridership"),
    "US gasoline, weekly": csv("us_gasoline", "barrels"),
}
DEFAULT = "default (blend chosen on val)"
MODELS = {DEFAULT: [], "network alone": ["model.blend=false"]}

# --quick: an hourly generated series through the same CSV path's DataModule, one epoch of a tiny network
QUICK = ["data.source=fixture", "data.target=Demand", "++data.fixture_freq=1h", "++data.fixture_size=504",
         "trainer.max_epochs=1", "model.hidden_size=8", "model.head_hidden=8"]


def best_baseline(r):
    """(name, test MASE) of the run's best baseline on its own test windows."""
    return min(((k, v["mase"]) for k, v in r.results["baselines"].items()), key=lambda kv: kv[1])


def over_best_baseline(r):
    """The run's test MASE minus the best baseline's (naive, each seasonal naive, the ridge), to 4 decimals: a blend
    that falls back wholly on that baseline forecasts it in float32, a few 1e-7 off the baseline's float64."""
    return round(r.results["test"]["mase"] - best_baseline(r)[1], 4)


CLAIMS = [Claim(f"at-or-below-best-baseline:{s}", f"{s}: the default forecaster's test MASE is at or below the best "
                "baseline's (its MASE minus the best baseline's <= 0)", "issue 35's goal (no paper): at or below the "
                "best of naive, seasonal naive and the ridge, every choice made on validation", over_best_baseline,
                "at_most", where={"series": s, "model": DEFAULT}, digits=3) for s in SERIES]


def per_series(done, series, value):
    """value(run) of the first finished run of each series (a property of the data, the same in every run)."""
    out = []
    for s in series:
        run = next((r for r in done if r.key["series"] == s), None)
        out.append(value(run) if run is not None else "not run")
    return out


def row(label, cells):
    return f"| {label} | " + " | ".join(str(c) for c in cells) + " |"


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else float("nan")


def why(series, group):
    """One line per series: the default against the best baseline, with what decides it: the network alone, what
    validation chose for the blend, how much validation there was, and how val and test differ."""
    default = [r for r in group if r.key["model"] == DEFAULT]
    alone = [r for r in group if r.key["model"] != DEFAULT]
    if not default:
        return f"- **{series}**: not run."
    name, best = best_baseline(default[0])
    mase = mean([r.results["test"]["mase"] for r in default])
    verdict = "level with" if abs(mase - best) < 5e-4 else "below" if mase < best else "above"
    r0 = default[0]
    network = f"; the network alone {mean([r.results['test']['mase'] for r in alone]):.3f}" if alone else ""
    on_val = r0.results.get("val_baselines")
    if on_val:  # the same comparison on the val windows, where the choices were made
        vname, vbest = min(((k, v["mase"]) for k, v in on_val.items()), key=lambda kv: kv[1])
        def val(group):
            return mean([r.results["best_val"]["val/mase"] for r in group])
        on_val = (f" On val, the best baseline ({vname}) scored {vbest:.3f}"
                  + (f", the network alone {val(alone):.3f}" if alone else "") + f", the default {val(default):.3f}.")
    return (f"- **{series}**: the default's test MASE {mase:.3f} is {verdict} the best baseline's ({name}, "
            f"{best:.3f}){network}. Validation ({r0.results['windows']['val']:,} forecasts, after "
            f"{r0.results['windows']['train']:,} training windows of {r0.results['step']['rows']:,} rows) chose "
            f"{blend_choice(default)}.{on_val or ''}")


def report(study, runs):
    from ..plots import figure
    done = [r for r in runs if r.results]
    series = list(dict.fromkeys(r.key["series"] for r in runs))
    models = list(dict.fromkeys(r.key["model"] for r in runs))
    names = list(dict.fromkeys(k for r in done for k in r.results["baselines"]))
    head = "| | " + " | ".join(series) + " |\n" + "|---" * (len(series) + 1) + "|"

    def baseline_rows(metric, fmt):
        rows = []
        for n in names:
            cells = per_series(done, series, lambda r, n=n: fmt(r.results["baselines"][n][metric])
                               if n in r.results["baselines"] else "-")
            rows.append(row(f"baseline: {n}", cells))
        return rows

    def model_rows(value, **fmt):
        def cell(s, m):
            group = [value(r) for r in done if r.key["series"] == s and r.key["model"] == m]
            return fmt_mean_std(group, **fmt) if group else "not run"
        return [row(m, [cell(s, m) for s in series]) for m in models]

    lines = ["## The series and what the run chose from its step", "",
             "Each run is the command a user types for their own CSV (below): the step is inferred from the "
             "timestamps and the seasons, lookback, horizon and strides follow it "
             "(docs/tasks/forecasting.md, *What follows the step*).", "", head,
             row("command", ["`rnn-train task=forecasting " + " ".join(SERIES.get(s, [])) + "`" for s in series])]
    facts = [             ("rows (after filling)", lambda r: f"{r.results['step']['rows']:,}"),
             ("step", lambda r: r.results["step"]["freq"]),
             ("filled", lambda r: ", ".join(f"{v} {'missing steps' if k == 'gaps' else 'empty values'}"
                                            for k, v in r.results["filled_missing"].items()) or "nothing"),
             ("seasons", lambda r: ", ".join(f"{k} {v}" for k, v in (r.results["step"]["seasons"] or {}).items())),
             ("lookback / horizon", lambda r: f"{r.results['step']['lookback']} / {r.results['step']['horizon']}"),
             ("windows train / val / test", lambda r: " / ".join(f"{r.results['windows'][k]:,}"
                                                                 for k in ("train", "val", "test"))),
             ("best baseline (test MASE)", lambda r: "{} ({:.3f})".format(*best_baseline(r)))]
    for label, value in facts:
        lines.append(row(label, per_series(done, series, value)))
    lines += ["", "## Test MASE (mean ± std over seeds; every baseline on the same test windows)", "", head,
              *model_rows(lambda r: r.results["test"]["mase"], digits=3),
              *baseline_rows("mase", lambda v: f"{v:.3f}"),
              "", "## Test MAPE (%)", "", head,
              *model_rows(lambda r: r.results["test"]["mape"], digits=2),
              *baseline_rows("mape", lambda v: f"{v:.2f}"),
              "", "## Test p10–p90 coverage (nominal 0.80; calibrated on val, then online on test)", "", head,
              *model_rows(lambda r: r.results["test"]["coverage"], digits=3),
              "", "## Val MASE of the kept checkpoint (what every choice was made on: early stopping, the checkpoint, "
              "the blend)", "", head,
              *model_rows(lambda r: r.results["best_val"]["val/mase"], digits=3),
              "", "## What validation chose for the blend (baseline, network weight w)", "", head,
              row(DEFAULT, [blend_choice([r for r in done if r.key["series"] == s and r.key["model"] == DEFAULT])
                            for s in series]), "",
              "The baselines are deterministic: every run of a series gives them the same figures. The ridge "
              "(`linear_lags`) reads what the network reads (the lookback, the calendar, the target lags); a seasonal "
              "naive forecast reads the series one season back.", "",
              "## Where the default stands, and why (from the runs above)", "",
              *[why(s, [r for r in done if r.key["series"] == s]) for s in series], ""]
    fig, ax = figure(figsize=(9, 4))
    bars(ax, runs, lambda r: r.results["test"]["mase"], "series", series, "model", models, "test MASE",
         "public series through the CSV path: the forecaster against the best baseline")
    for i, s in enumerate(series):
        run = next((r for r in done if r.key["series"] == s), None)
        if run is not None:
            ax.hlines(best_baseline(run)[1], i - 0.45, i + 0.45, colors="k", linestyles=":",
                      label="best baseline" if i == 0 else None)
    ax.set_xticks(range(len(series)), [s.replace(", ", "\n") for s in series], fontsize=8)
    ax.legend(fontsize=7)
    return "\n".join(lines), fig


STUDY = Study(
    name="own_series",
    title="own_series: forecasting public series through the CSV path, with the defaults that follow their step",
    base=["task=forecasting"],
    axes={"cell": {"LSTM": ["cell=lstm"]}, "series": SERIES, "model": MODELS},
    budget="the forecasting task's defaults through the CSV path (up to 20 epochs, early stopping and the blend on "
           "val MASE), one core",
    report=report,
    rows="model",
    quick=QUICK,
    quick_axes={"series": ["EWR temperature, hourly"], "model": [DEFAULT]},
    claims=CLAIMS,
)
