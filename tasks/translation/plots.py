"""Translation plots: BLEU by source length (Bahdanau et al. 2015, fig. 2) and attention heat-maps."""
from rnnsuite.plots import figure, save_figure


def bleu_by_length_plot(buckets, out_png, attention=None):
    """buckets: {"beam1": {"1-10": {"bleu": .., "n": ..}, ...}, "beam5": {...}}."""
    fig, ax = figure(figsize=(6, 3.8))
    for name, by in sorted(buckets.items()):
        labels = list(by)
        ax.plot(range(len(labels)), [by[k]["bleu"] for k in labels], marker="o",
                label="greedy" if name == "beam1" else name.replace("beam", "beam "))
        ax.set_xticks(range(len(labels)), [f"{k}\n(n={by[k]['n']})" for k in labels], fontsize=8)
    ax.set_xlabel("source length (words)")
    ax.set_ylabel("test BLEU")
    ax.set_title(f"BLEU by source length (attention: {attention or 'none'})")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, out_png)


def attention_heatmaps(maps, out_png):
    """maps: [(src pieces, tgt pieces, weights [T, S])]: one panel per sentence."""
    fig, axes = figure(len(maps), 1, figsize=(9, 4.2 * len(maps)), squeeze=False)
    for ax, (src, tgt, w) in zip(axes[:, 0], maps):
        ax.imshow(w, cmap="Greys", aspect="auto", vmin=0, vmax=1)
        ax.set_xticks(range(len(src)), src, rotation=90, fontsize=7)
        ax.set_yticks(range(len(tgt)), tgt, fontsize=7)
    return save_figure(fig, out_png)
