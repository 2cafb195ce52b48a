"""Forecast plots: history, actuals, forecast and quantile band; error per horizon step."""
import numpy as np

from rnnsuite.plots import figure, save_figure


def draw_forecast(ax, hist_t, hist_y, fut_t, pred, quantiles, actual=None, baseline=None, label="forecast",
                  baseline_label="seasonal naive"):
    """pred [H, Q] (one target); quantiles: sorted list or None."""
    mid = quantiles.index(0.5) if quantiles else 0
    ax.plot(hist_t, hist_y, color="0.45", lw=1, label="history")
    if actual is not None:
        ax.plot(fut_t, actual, color="black", lw=1.3, label="actual")
    if baseline is not None:
        ax.plot(fut_t, baseline, color="tab:orange", lw=1, ls="--", label=baseline_label)
    if quantiles and len(quantiles) > 1:
        ax.fill_between(fut_t, pred[:, 0], pred[:, -1], color="tab:blue", alpha=0.25,
                        label=f"p{round(100 * quantiles[0])}-p{round(100 * quantiles[-1])}")
    ax.plot(fut_t, pred[:, mid], color="tab:blue", lw=1.5, label=label)
    ax.grid(alpha=0.3)


def forecast_plot(dm, pred, quantiles, out_png, baseline=None, n=3, baseline_label="seasonal naive"):
    """n test windows spread over the test period: the last day of history, the actuals, the forecast."""
    L, H = dm.L, dm.H
    origins = dm.starts["test"] + L
    picks = np.unique(np.linspace(0, len(origins) - 1, n).round().astype(int))
    show = min(L, 2 * H)
    fig, axes = figure(len(picks), 1, figsize=(10, 2.8 * len(picks)), squeeze=False)
    idx, name = dm.frame.index, dm._state["targets"][0]
    for ax, i in zip(axes[:, 0], picks):
        o = origins[i]
        draw_forecast(ax, idx[o - show:o], dm.raw_y[o - show:o, 0], idx[o:o + H], pred[i, :, 0], quantiles,
                      actual=dm.raw_y[o:o + H, 0], baseline=None if baseline is None else baseline[i, :, 0],
                      baseline_label=baseline_label)
        ax.set_title(f"{name}: forecast from {idx[o]}", fontsize=10)
    axes[0, 0].legend(fontsize=8, ncol=5, loc="upper left")
    return save_figure(fig, out_png)


def horizon_plot(model_mape, baselines, out_png):
    """MAPE per horizon step for the model and each baseline."""
    fig, ax = figure(figsize=(8, 4))
    steps = np.arange(1, len(model_mape) + 1)
    for name, v in baselines.items():
        ax.plot(steps, v, lw=1, ls="--", label=name)
    ax.plot(steps, model_mape, lw=2, color="black", label="this model")
    ax.set_xlabel("horizon step")
    ax.set_ylabel("test MAPE (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, out_png)
