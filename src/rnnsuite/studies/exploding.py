"""exploding: a tanh RNN whose recurrent weights start large, trained by plain SGD with and without gradient-norm
clipping (Pascanu, Mikolov & Bengio 2013). The study JSON keeps every run's gradient norm and loss at every step."""
import math

from .base import Study, fmt_mean_std
from .verdict import Claim

SETTINGS = {"no clipping": ["trainer.gradient_clip_val=null"],
            "norm clipped at 1": ["trainer.gradient_clip_val=1.0"]}
BASELINE = 1 / 6    # always predicting 1
LEARNS = 0.1        # test MSE clearly below the baseline: 40% under it


def traces(run):
    """Per training step: the global gradient norm before clipping and the loss (null where not finite)."""
    df = run.metrics()
    if df is None or "train/grad_norm" not in df:
        return {}
    rows = df[["step", "train/grad_norm", "train/loss_step"]].dropna(how="all", subset=["train/grad_norm",
                                                                                      "train/loss_step"])
    rows = rows.groupby("step", as_index=False).first()
    return {"step": [int(s) for s in rows["step"]],
            "grad_norm": [_g(v) for v in rows["train/grad_norm"]],
            "loss": [_g(v) for v in rows["train/loss_step"]]}


def _g(v):
    return float(f"{v:.4g}") if v == v and math.isfinite(v) else None  # JSON has no NaN/inf: null


def diverged(r):
    """1 when the training loss left the finite numbers or the test MSE did, else 0 (None without a trace)."""
    tr = (r.results.get("traces") or {}).get("loss")
    if not tr:
        return None
    test = r.results["test"].get("mse")
    return float(any(v is None for v in tr) or test is None or not math.isfinite(test))


def mse(r):
    return r.results["test"]["mse"]


CLAIMS = [
    Claim("clipped-learns", f"With the gradient norm clipped at 1 the tanh RNN learns: test MSE <= {LEARNS} "
          "(the baseline is 0.167)", "clipping lets SGD train through the exploding gradients (Pascanu, Mikolov & "
          "Bengio 2013, section 3.2 and Fig. 7)", mse, "at_most", where={"clipping": "norm clipped at 1"},
          bound=LEARNS, digits=4, more_training_helps=True),
    Claim("unclipped-diverges", "Without clipping the same runs diverge (the training loss becomes inf/NaN; share "
          "of seeds)", "one step on a gradient that exploded throws training off (Pascanu et al. 2013, section 3 "
          "and Fig. 6)", diverged, "at_least", where={"clipping": "no clipping"}, bound=0.5, digits=2),
]


def report(study, runs):
    from ..plots import figure
    settings = list(dict.fromkeys(r.key["clipping"] for r in runs))
    lines = ["## Divergence and gradient norms (per setting, over seeds)", "",
             "| clipping | diverged | largest finite ‖∇‖ (per seed) | median ‖∇‖ (per seed) | test MSE |",
             "|---|---|---|---|---|"]
    for s in settings:
        done = [r for r in runs if r.key["clipping"] == s and r.results]
        norms = [[v for v in (r.results.get("traces") or {}).get("grad_norm", []) if v is not None] for r in done]
        mx = [max(n) if n else None for n in norms]
        med = [sorted(n)[len(n) // 2] if n else None for n in norms]
        div = [diverged(r) for r in done]
        lines.append(f"| {s} | {sum(bool(d) for d in div)} of {len(done)} seeds | {per_seed(mx)} | {per_seed(med)} "
                     f"| {fmt_mean_std([mse(r) for r in done], 4)} |")
    lines += ["", "Diverged: the training loss became inf/NaN at some step (the run goes on to its cap; the test "
              "MSE is then not a number). ‖∇‖ is the global gradient norm at every step before the Trainer clips "
              f"it. Always predicting 1 scores test MSE {BASELINE:.3f}. Every step's ‖∇‖ and loss of every run "
              "are in exploding.json (runs[i].results.traces), and the figure is drawn from them.", "",
              "## Published", "",
              "Pascanu, Mikolov & Bengio 2013: when the recurrent weights' spectral radius exceeds 1 (for tanh), "
              "the gradient norm can grow exponentially with the time lag, and one step along such a gradient "
              "throws training off (their \"cliffs\"); rescaling the gradient when its norm exceeds a threshold "
              "prevents it and lets SGD train.", ""]
    fig, axes = figure(1, 2, figsize=(13, 4.4))
    for i, s in enumerate(settings):
        for j, r in enumerate(r for r in runs if r.key["clipping"] == s and r.results):
            tr = r.results.get("traces") or {}
            if not tr:
                continue
            top = 1e30
            axes[0].semilogy(tr["step"], [top if v is None else max(v, 1e-12) for v in tr["grad_norm"]],
                             color=f"C{i}", alpha=0.6, lw=0.8, label=s if j == 0 else None)
            axes[1].semilogy(tr["step"], [top if v is None else max(v, 1e-12) for v in tr["loss"]], color=f"C{i}",
                             alpha=0.6, lw=0.8, label=s if j == 0 else None)
    axes[0].set_title("gradient norm before clipping (each line a seed; inf/NaN at 1e30)")
    axes[1].axhline(BASELINE, color="gray", ls=":", label="always 1 (1/6)")
    axes[1].set_title("training loss (each line a seed; inf/NaN at 1e30)")
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return "\n".join(lines), fig


def per_seed(values):
    """Values that span orders of magnitude, one per seed: '2.5e+18, 2.7e+18, 3.4e+18'."""
    return ", ".join("n/a" if v is None else f"{v:.2g}" for v in values)


STUDY = Study(
    name="exploding",
    title="exploding: a tanh RNN with a large recurrent init, with and without gradient clipping",
    base=["experiment=exploding"],
    axes={"cell": {"tanh RNN, orthogonal init × 1.25": []}, "clipping": SETTINGS},
    budget="the adding problem at T = 20 (values in [0, 1]), hidden 64, recurrent weights orthogonal × 1.25, plain "
           "SGD lr 0.1, batches of 50, 1,500 updates, the gradient norm and loss logged at every update",
    report=report,
    rows="clipping",
    quick=["data.n_train=200", "data.n_val=50", "data.n_test=50", "trainer.max_steps=6"],
    traces=traces,
    claims=CLAIMS,
)
