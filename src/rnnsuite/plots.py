"""Plots every run gets. Matplotlib without a screen (Agg)."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    for ax, (title, cols) in zip(axes[0], panels):
        for c in cols:
            s = df.groupby("epoch")[c].mean().dropna()
            if len(s):
                ax.plot(s.index + 1, s.values, marker="o", label=c)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return Path(out_png)
