"""short_series: the forecaster on 12-week half-hourly series, where the train split is ~8 weeks and every
baseline is hard to beat, with and without a validation-chosen blend with the baselines."""
from collections import Counter

from .base import Study, bars, table
from .verdict import Claim

SERIES = {
    "taylor": ["data=taylor"],
    "elecdemand, first 12 weeks": ["data.rows=[0,4032]"],
    "elecdemand, last 12 weeks": ["data.rows=[-4032,null]"],
}
MODELS = {
    "network alone": ["model.blend=false"],
    "blend with a baseline": ["model.blend=true"],
    "residual on the ridge + blend": ["model.residual=ridge", "model.blend=true"],
}



def mape(r):
    return r.results["test"]["mape"]


def over_seasonal_naive(r):
    """The run's test MAPE minus the better seasonal naive forecast's (a day or a week back) on the same windows."""
    b = r.results["baselines"]
    return mape(r) - min(b[k]["mape"] for k in ("seasonal_naive_day", "seasonal_naive_week") if k in b)


def forecast_claims(col, labels, alone="network alone", blend="blend with a baseline"):
    """Per `col` label: the network alone beats the better seasonal naive forecast, and blending it with a baseline
    chosen on validation lowers its MAPE."""
    claims = []
    for label in labels:
        claims += [
            Claim(f"beats-seasonal-naive:{label}", f"{label}: the network alone beats the better seasonal naive "
                  "forecast (its test MAPE minus seasonal naive's < 0)", "a forecast that cannot beat seasonal naive "
                  "is not worth having (Hyndman & Athanasopoulos, FPP, section 5.2)", over_seasonal_naive, "at_most",
                  where={col: label, "model": alone}, digits=2),
            Claim(f"blend-beats-alone:{label}", f"{label}: the blend with a baseline (A) has a lower test MAPE than "
                  "the network alone (B)", "combined forecasts beat their members (Bates & Granger 1969; the M4 "
                  "competition, Makridakis et al. 2020)", mape, "less", where={col: label, "model": blend},
                  versus={col: label, "model": alone}, digits=2)]
    return claims


# --quick: the forecasting fixture, one epoch of a tiny network (forecast_blend shares it)
QUICK = ["data=forecast_fixture", "data.fixture_size=30", "trainer.max_epochs=1", "model.hidden_size=8",
         "model.head_hidden=8"]


def blend_choice(group):
    """'seasonal_naive_week, w 0.5 (3×)': what validation chose in each seed's checkpoint."""
    picks = Counter(f"{b['with']}, w {b['w']:.1f}" for r in group if (b := r.results.get("blend")))
    return "; ".join(f"{k} ({n}×)" for k, n in picks.most_common()) or "-"


def report_over(col, notes, title):
    """A forecasting study's report: model × `col` tables of test MAPE / MASE and val MAPE, every baseline per
    `col` label, what validation chose for the blend, then `notes` (lines), and the bars figure."""
    return lambda study, runs: forecast_report(runs, col, notes, title)


def forecast_report(runs, col, notes, title):
    from ..plots import figure
    done = [r for r in runs if r.results]
    series = list(dict.fromkeys(r.key[col] for r in runs))
    models = list(dict.fromkeys(r.key["model"] for r in runs))
    names = list(dict.fromkeys(k for r in done for k in r.results["baselines"]))
    lines = ["## Test MAPE (%, mean ± std over seeds)", "",
             table(runs, "model", col, lambda r: r.results["test"]["mape"], digits=2)]
    for n in names:  # deterministic: the same figure in every run of a series
        cells = []
        for s in series:
            vals = [r.results["baselines"][n]["mape"] for r in done if r.key[col] == s]
            cells.append(f"{sum(vals) / len(vals):.2f}" if vals else "not run")
        lines.append(f"| baseline: {n} | " + " | ".join(cells) + " |")
    lines += ["", "## Test MASE", "", table(runs, "model", col, lambda r: r.results["test"]["mase"], digits=3),
              "", "## Test p10–p90 band (nominal 0.80)", "",
              "As the run calibrates it (`model.calibrate`: the pad fitted on val, and by default online "
              "recalibration as the test days' actuals arrive); the interval score is lower-is-better.", "",
              "**Coverage**", "", table(runs, "model", col, lambda r: r.results["test"]["coverage"], digits=3), "",
              *(["**Coverage with the val pad alone**", "",
                 table(runs, "model", col, lambda r: r.results["test"].get("coverage_split"), digits=3), ""]
                if any("coverage_split" in r.results["test"] for r in done) else []),  # older runs lack it
              "**Interval score**", "",
              table(runs, "model", col, lambda r: r.results["test"]["interval_score"], digits=3), "",
              "**Mean width**", "", table(runs, "model", col, lambda r: r.results["test"]["interval_width"], digits=3),
              "", "## Val MAPE of the kept checkpoint (what every choice was made on)", "",
              table(runs, "model", col, lambda r: r.results["best_val"]["val/mape"], digits=2), "",
              "## What validation chose for the blend (baseline, network weight w)", "",
              "| model | " + " | ".join(series) + " |", "|---" * (len(series) + 1) + "|"]
    for m in models[1:]:
        lines.append(f"| {m} | " + " | ".join(
            blend_choice([r for r in done if r.key["model"] == m and r.key[col] == s]) for s in series) + " |")
    lines += [""] + notes
    fig, ax = figure(figsize=(9, 4))
    bars(ax, runs, lambda r: r.results["test"]["mape"], col, series, "model", models, "test MAPE (%)", title)
    for i, s in enumerate(series):
        best = min((sum(v) / len(v), n) for n in names
                   if (v := [r.results["baselines"][n]["mape"] for r in done if r.key[col] == s]))
        ax.hlines(best[0], i - 0.45, i + 0.45, colors="k", linestyles=":",
                  label=f"best baseline (per {col})" if i == 0 else None)
    ax.legend(fontsize=7)
    return "\n".join(lines), fig


NOTES = ["Each series is split 70/15/15 in time: 12 val and 12 test forecasts of a day. With fewer than "
         "`data.min_train_windows` (2,000) windows at the default stride of 4 steps, the task starts a "
         "training window at every step: 2,103 windows, 33 batches per epoch. `taylor` has no covariates; "
         "the elecdemand cuts keep temperature and the work-day flag as known covariates, as the task's "
         "default does.", "",
         "## Published", "",
         "Taylor (2003, J. Oper. Res. Soc. 54) introduced this series to evaluate double seasonal "
         "exponential smoothing, under its own split and horizons; no published figure applies to these 12 "
         "test days, so the reference points are the baselines above.", ""]


STUDY = Study(
    name="short_series",
    title="short_series: forecasting 12-week series against every baseline",
    base=["task=forecasting"],
    axes={"cell": {"LSTM": ["cell=lstm"]}, "series": SERIES, "model": MODELS},
    budget="the forecasting task's defaults (up to 20 epochs of 33 batches, early stopping on val MAPE), one core",
    report=report_over("series", NOTES, "12-week series: the model and its blends against the best baseline"),
    rows="model",
    quick=QUICK,
    quick_axes={"series": ["elecdemand, last 12 weeks"], "model": ["network alone", "residual on the ridge + blend"]},
    claims=forecast_claims("series", SERIES),
)
