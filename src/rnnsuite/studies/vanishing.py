"""vanishing: the adding problem at growing T, for tanh RNNs (default and orthogonal init), IRNN, LSTM and GRU."""
from .base import Study, series, table

CELLS = {
    "tanh RNN": ["cell=rnn"],
    "tanh RNN, orthogonal init": ["cell=rnn", "cell.init=orthogonal"],
    "IRNN": ["cell=irnn"],
    "LSTM": ["cell=lstm"],
    "GRU": ["cell=gru"],
}
LENGTHS = (50, 100, 200, 400)
THRESHOLD = 0.01


def steps_to_threshold(run):
    """The training step at which val MSE first fell below 0.01 (None if it never did)."""
    df = run.metrics()
    if df is None or "val/mse" not in df:
        return None
    hit = df[df["val/mse"] < THRESHOLD]
    return float(hit["step"].iloc[0]) if len(hit) else None


def report(study, runs):
    from ..plots import figure, log_x_ticks
    baseline = [r.results["baselines"]["predict_1"]["mse"] for r in runs if r.results]
    body = ["## Test MSE (mean ± std over seeds)", "",
            table(runs, "cell", "T", lambda r: r.results["test"]["mse"], digits=4), "",
            f"Always predicting 1 (the baseline): {sum(baseline) / max(1, len(baseline)):.4f} "
            f"(1/6 = 0.1667 in expectation).", "",
            "## Solved: % of test sequences with |error| < 0.04", "",
            table(runs, "cell", "T", lambda r: r.results["test"]["solved"], pct=True, scale=100.0), "",
            f"## Training steps until val MSE < {THRESHOLD}", "",
            "Mean ± std over the seeds that got there; \"(k of n)\" when only k of the n seeds did, n/a when none.",
            "", table(runs, "cell", "T", steps_to_threshold, digits=0), "",
            "## Published", "",
            "- Hochreiter & Schmidhuber 1997 (LSTM, adding problem, Table 7): solved (|error| < 0.04 on all but "
            "at most 1 of 2,560 test sequences) at minimal lags T = 100, 500 and 1,000, after 74,000, 209,000 "
            "and 853,000 training sequences.",
            "- Le, Jaitly & Hinton 2015 (IRNN): on the adding problem at T = 150 to 400, IRNN and LSTM get the "
            "MSE far below the baseline, the tanh RNN stays on it.", "",
            "Protocol differences: H&S mark one of the first ten and one of the first T/2 − 1 pairs, draw values "
            "in [−1, 1] and scale the target to [0, 1]; we mark one position in each half and draw values in "
            "[0, 1] (Le et al.'s form). Our budget (below) is a few thousand steps of 50 sequences, far less than "
            "theirs: a cell that does not solve T here may still solve it with more training.", ""]
    fig, axes = figure(1, 3, figsize=(16, 4.3))
    cells = list(dict.fromkeys(r.key["cell"] for r in runs))
    lengths = sorted(set(r.key["T"] for r in runs))
    for i, cell in enumerate(cells):
        for ax, metric, scale in ((axes[0], "mse", 1.0), (axes[1], "solved", 100.0)):
            means, stds = series(runs, lambda r, m=metric, c=scale: c * r.results["test"][m], "T", lengths, cell=cell)
            ax.errorbar(lengths, means, yerr=stds, marker="o", capsize=3, label=cell, color=f"C{i}")
    axes[0].axhline(1 / 6, color="gray", ls=":", label="always 1 (1/6)")
    axes[0].set_yscale("log")
    axes[0].set_title("test MSE (mean ± std over seeds)")
    axes[1].set_title("% of test sequences solved (|error| < 0.04)")
    for ax in axes[:2]:
        log_x_ticks(ax, lengths)
        ax.set_xlabel("T (sequence length)")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    longest = lengths[-1]
    ax = axes[2]
    for i, cell in enumerate(cells):
        run = next((r for r in runs if r.key["cell"] == cell and r.key["T"] == longest and r.results
                    and r.results.get("grad_norm_through_time")), None)
        if run is None:
            continue
        curves = run.results["grad_norm_through_time"]
        for label, ls in (("at initialisation", "--"), ("trained", "-")):
            ys = [max(v, 1e-30) for v in curves.get(label, [])]
            ax.semilogy(range(len(ys)), ys, ls=ls, color=f"C{i}", label=f"{cell}, {label}" if ls == "-" else None)
    ax.set_title(f"‖dL/dh_t‖ at T = {longest}, seed 1 (dashed: at init, solid: trained)")
    ax.set_xlabel("time step t (loss at the last step)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return "\n".join(body), fig


STUDY = Study(
    name="vanishing",
    title="vanishing: the adding problem at growing T",
    base=["experiment=vanishing"],
    axes={"cell": CELLS, "T": {T: [f"data.seq_len={T}"] for T in LENGTHS}},
    budget="hidden 64, Adam lr 1e-3, gradient norm clipped at 1, batches of 50 fresh-each-epoch sequences, "
           "up to 3,000 steps (stopped early once val MSE < 1e-4), val every 100 steps on 500 sequences, "
           "test on 1,000",
    report=report,
    quick=["data.n_train=200", "data.n_val=50", "data.n_test=50", "trainer.max_steps=8",
           "trainer.val_check_interval=4"],
    quick_axes={"T": [50]},
)
