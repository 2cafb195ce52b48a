"""Figures: `figure()` makes one, `save_figure()` writes it as a PNG at the suite's one resolution.

Built on matplotlib's object API (`matplotlib.figure.Figure`), not pyplot: no global backend is chosen, no
figure registry fills up, and importing the library changes nothing for a user's own plots."""
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from .atomic import atomic_path

DPI = 110


def figure(nrows=1, ncols=1, figsize=(6.4, 4.0), squeeze=True, **subplots):
    """(fig, axes) as `pyplot.subplots` gives them (`subplots`: e.g. gridspec_kw)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=squeeze, **subplots)


def save_figure(fig, path):
    """Lay the figure out, write it as a PNG at `DPI`, return the path."""
    path = Path(path)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    return path


def log_x_ticks(ax, values, base=10):
    """A log x-axis labelled at `values` only: matplotlib would also label its minor ticks (6×10¹, 3×10²)."""
    if len(values) > 1:
        ax.set_xscale("log", base=base)
    ax.set_xticks(values, [str(v) for v in values])
    ax.xaxis.set_minor_locator(NullLocator())


def learning_curves(metrics_csv, out_png, monitor=None):
    """Train/val loss per epoch (and the monitored metric) from a CSVLogger metrics.csv."""
    import pandas as pd
    metrics_csv = Path(metrics_csv)
    if not metrics_csv.is_file():
        return None
    df = pd.read_csv(metrics_csv)
    if "epoch" not in df:
        return None
    panels = [("loss", [c for c in ("train/loss_epoch", "train/loss", "val/loss") if c in df])]
    if monitor and monitor in df and monitor != "val/loss":
        panels.append((monitor, [monitor]))
    fig, axes = figure(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    for ax, (title, cols) in zip(axes[0], panels):
        for c in cols:
            s = df.groupby("epoch")[c].mean().dropna()
            if len(s):
                ax.plot(s.index + 1, s.values, marker="o", label=c)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, out_png)
