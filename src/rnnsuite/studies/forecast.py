"""forecast: the forecasting styles × cells on the electricity demand series, against every baseline."""
from .base import Study, bars, table
from .short_series import mape, over_seasonal_naive
from .verdict import Claim

CELLS = {"tanh RNN": ["cell=rnn"], "LSTM": ["cell=lstm"], "GRU": ["cell=gru"]}
STYLES = {"direct": ["model.style=direct"], "encdec": ["experiment=forecasting_encdec"],
          "synced": ["experiment=forecasting_synced"]}


CLAIMS = [Claim(f"beats-seasonal-naive:{style}", f"The LSTM, {style}, beats the better seasonal naive forecast "
                "(test MAPE minus seasonal naive's < 0)", "a forecast that cannot beat seasonal naive is not worth "
                "having (Hyndman & Athanasopoulos, FPP, section 5.2)", over_seasonal_naive, "at_most",
                where={"cell": "LSTM", "style": style}, digits=2) for style in STYLES]
CLAIMS += [Claim(f"gated-beat-tanh:{cell}", f"{cell} (A) forecasts better than the tanh RNN (B), direct style "
                 "(test MAPE)", "gated units above the tanh RNN (Chung et al. 2014, on music and speech)", mape,
                 "less", where={"cell": cell, "style": "direct"}, versus={"cell": "tanh RNN", "style": "direct"},
                 digits=2) for cell in ("LSTM", "GRU")]


def report(study, runs):
    from ..plots import figure
    done = [r for r in runs if r.results]
    lines = ["## Test MAPE (%, mean ± std over seeds)", "",
             table(runs, "cell", "style", lambda r: r.results["test"]["mape"], digits=2), "",
             "## Test MASE (against the seasonal naive scale)", "",
             table(runs, "cell", "style", lambda r: r.results["test"]["mase"], digits=3), "",
             "## Baselines on the same test windows", "", "| baseline | MAPE | MASE |", "|---|---|---|"]
    names = list(dict.fromkeys(k for r in done for k in r.results["baselines"]))
    for n in names:
        vals = [r.results["baselines"][n] for r in done if n in r.results["baselines"]]
        mape = sum(v["mape"] for v in vals) / len(vals)
        mase = [v.get("mase") for v in vals if v.get("mase") is not None]
        lines.append(f"| {n} | {mape:.2f}% | " + (f"{sum(mase) / len(mase):.3f}" if mase else "") + " |")
    lines += ["", "The baselines are deterministic, so every run gives them the same figures.", "",
              "## Published", "",
              "No published figure is for this exact split: the reference point is the seasonal naive forecast, "
              "which a model must beat (Hyndman & Athanasopoulos, fpp2's `elecdemand`).", ""]
    fig, ax = figure(figsize=(8, 4))
    cells = list(dict.fromkeys(r.key["cell"] for r in runs))
    styles = list(dict.fromkeys(r.key["style"] for r in runs))
    bars(ax, runs, lambda r: r.results["test"]["mape"], "cell", cells, "style", styles, "test MAPE (%)",
         "day-ahead electricity demand")
    for k, n in enumerate(names):
        vals = [r.results["baselines"][n]["mape"] for r in done if n in r.results["baselines"]]
        ax.axhline(sum(vals) / len(vals), color=f"C{k + 3}", ls=":", label=n)
    ax.legend(fontsize=7)
    return "\n".join(lines), fig


STUDY = Study(
    name="forecast",
    title="forecast: forecasting styles × cells against every baseline",
    base=["task=forecasting", "model.blend=false"],  # the networks alone: no baseline blended in
    axes={"cell": CELLS, "style": STYLES},
    budget="the forecasting task's defaults, the network alone (`model.blend=false`)",
    report=report,
    quick=["data=forecast_fixture", "data.fixture_size=20", "trainer.max_epochs=1", "model.hidden_size=8",
           "model.head_hidden=8"],
    quick_axes={"style": ["direct"]},
    claims=CLAIMS,
)
