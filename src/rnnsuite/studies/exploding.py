"""exploding: a tanh RNN with a large recurrent initialisation, trained with and without gradient clipping."""
import math

from .base import Study, fmt_mean_std

SETTINGS = {"no clipping": ["trainer.gradient_clip_val=null"],
            "norm clipped at 1": ["trainer.gradient_clip_val=1.0"]}


def curve(run, column):
    """(steps, values) of a per-step column of metrics.csv."""
    df = run.metrics()
    if df is None or column not in df:
        return [], []
    rows = df[["step", column]].dropna()
    return rows["step"].tolist(), rows[column].tolist()


def diverged(run):
    """The training loss left the finite numbers, or ended above where it started (the run blew up and never
    came back)."""
    _, loss = curve(run, "train/loss_step")
    if not loss:
        return None
    return any(not math.isfinite(v) for v in loss) or not math.isfinite(run.results["test"]["mse"]) \
        or min(loss[-5:]) > loss[0]


def per_seed(values):
    """Values that span orders of magnitude, one per seed: '2.5e+18, 2.7e+18, 3.4e+18'."""
    return ", ".join("n/a" if v is None else f"{v:.2g}" for v in values)


def report(study, runs):
    from ..plots import figure
    settings = list(dict.fromkeys(r.key["clipping"] for r in runs))
    lines = ["## Divergence and gradient norms (per setting, over seeds)", "",
             "| clipping | diverged | largest finite ‖∇‖ (per seed) | median ‖∇‖ (per seed) | test MSE |",
             "|---|---|---|---|---|"]
    for s in settings:
        done = [r for r in runs if r.key["clipping"] == s and r.results]
        div = [diverged(r) for r in done]
        norms = [curve(r, "train/grad_norm")[1] for r in done]
        finite = [[v for v in n if math.isfinite(v)] for n in norms]
        mx = [max(n) if n else None for n in finite]
        med = [sorted(n)[len(n) // 2] if n else None for n in finite]
        lines.append(f"| {s} | {sum(bool(d) for d in div)} of {len(done)} seeds | {per_seed(mx)} | "
                     f"{per_seed(med)} | {fmt_mean_std([r.results['test']['mse'] for r in done], 4)} |")
    lines += ["", "Diverged: the training loss became NaN/inf, or its last logged values stayed above its first "
              "(the run blew up and did not recover). ‖∇‖ is the global gradient norm logged at every step before "
              "the Trainer clips it. Always predicting 1 scores test MSE 0.167.", "",
              "## Published", "",
              "Pascanu, Mikolov & Bengio 2013: with a large recurrent weight matrix (spectral radius > 1 for tanh) "
              "the gradient norm can grow exponentially with the time lag, and one such step throws training off "
              "(their \"cliffs\"); rescaling the gradient when its norm exceeds a threshold prevents it.", "",
              "Protocol differences: the adding problem of the `vanishing` study at T = 50 with plain SGD (no "
              "momentum); Pascanu et al. study the same effect on several synthetic tasks and on language models.",
              ""]
    fig, axes = figure(1, 2, figsize=(12, 4.2))
    for i, s in enumerate(settings):
        for j, r in enumerate(r for r in runs if r.key["clipping"] == s and r.results):
            steps, norms = curve(r, "train/grad_norm")
            axes[0].semilogy(steps, [max(v, 1e-12) if math.isfinite(v) else 1e12 for v in norms], color=f"C{i}",
                             alpha=0.6, lw=0.8, label=s if j == 0 else None)
            steps, loss = curve(r, "train/loss_step")
            axes[1].semilogy(steps, [v if math.isfinite(v) else 1e6 for v in loss], color=f"C{i}", alpha=0.6, lw=0.8,
                             label=s if j == 0 else None)
    axes[0].set_title("gradient norm before clipping (each line a seed)")
    axes[1].axhline(1 / 6, color="gray", ls=":", label="always 1 (1/6)")
    axes[1].set_title("training loss (NaN/inf drawn at the top)")
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return "\n".join(lines), fig


STUDY = Study(
    name="exploding",
    title="exploding: a tanh RNN with a large recurrent init, with and without gradient clipping",
    base=["experiment=exploding"],
    axes={"cell": {"tanh RNN, orthogonal init × 2": []}, "clipping": SETTINGS},
    budget="adding problem T = 50, hidden 64, recurrent weights orthogonal × 2, SGD lr 0.1, batches of 50, "
           "1,500 steps",
    report=report,
    rows="clipping",
    quick=["data.n_train=200", "data.n_val=50", "data.n_test=50", "trainer.max_steps=6"],
)
