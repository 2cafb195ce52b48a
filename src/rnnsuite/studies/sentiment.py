"""sentiment: the task's default (an ensemble of 3 BiLSTMs) against one of its members and the baselines."""
from .base import Study, bars, fmt_mean_std, group_values
from .mr import NBSVM, OOD_ABOUT, OOD_TITLE, acc
from .verdict import Claim

DEFAULT, MEMBER = "default: ensemble of 3 BiLSTMs", "one member"
MODELS = {DEFAULT: [], MEMBER: ["model.ensemble=1"]}
PCT = {"digits": 1, "scale": 100.0, "unit": "%"}
CLAIMS = [
    Claim("ensemble-beats-member", "An ensemble of 3 BiLSTMs (A) scores a higher test accuracy than one of them (B)",
          "an ensemble beats its members when their errors differ (Hansen & Salamon 1990; Dietterich 2000)", acc,
          "greater", where={"model": DEFAULT}, versus={"model": MEMBER}, **PCT),
    Claim("default-reaches-nbsvm", "The default (ensemble) reaches NB-SVM on MR (test accuracy >= 79.4%)",
          "NB-SVM 79.4% (Wang & Manning 2012; Kim 2014, Table 2)", acc, "at_least", where={"model": DEFAULT},
          bound=NBSVM, **PCT),
    Claim("default-beats-tfidf", "The default beats TF-IDF + logistic regression fitted on the same split "
          "(accuracy difference > 0)", "a bag-of-n-grams linear model is the baseline to beat (Wang & Manning 2012)",
          lambda r: acc(r) - r.results["baselines"]["tfidf_logreg"]["acc"], "at_least", where={"model": DEFAULT},
          **PCT),
]


def report(study, runs):
    from ..plots import figure
    done = [r for r in runs if r.results]
    ood = lambda r, k: r.results.get("out_of_domain", {}).get("drug_reviews", {}).get(k)  # noqa: E731
    columns = {"val acc": lambda r: r.results["best_val"]["val/acc"], "test acc": lambda r: r.results["test"]["acc"],
               "test macro-F1": lambda r: r.results["test"]["macro_f1"],
               "out of domain: acc": lambda r: ood(r, "acc"),
               "out of domain: balanced acc": lambda r: ood(r, "balanced_acc")}
    lines = ["## Accuracy (mean ± std over seeds)", "",
             "| model | " + " | ".join(columns) + " | minutes a run |", "|---" * (len(columns) + 2) + "|"]
    for m in dict.fromkeys(r.key["model"] for r in runs):
        cells = [fmt_mean_std(group_values(runs, f, model=m), pct=True, scale=100.0)
                 for f in columns.values()]
        minutes = fmt_mean_std(group_values(runs, lambda r: r.results["minutes"], model=m), 1)
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {minutes} |")
    base = lambda name, k: [r.results["baselines"].get(name, {}).get(k) for r in done]  # noqa: E731
    for name, label in (("tfidf_logreg", "TF-IDF (1–2 grams) + logistic regression"),
                        ("majority_class", "majority class")):
        if done:
            cells = [base(name, "acc"), base(name, "macro_f1"), base(f"{name}_drug_reviews", "acc"),
                     base(f"{name}_drug_reviews", "balanced_acc")]
            lines.append(f"| {label} | | " + " | ".join(fmt_mean_std(c, pct=True, scale=100.0) for c in cells)
                         + " | |")
    lines += ["", "The baselines are fitted on each run's train split (the same split for every seed), so their "
              "spread is 0. Each run is one `rnn-train task=sentiment trainer.max_epochs=20 seed=S` (with "
              "`model.ensemble=1` for one member).",
              "", OOD_TITLE, "", OOD_ABOUT, ""]
    fig, ax = figure(figsize=(7, 4))
    models = list(dict.fromkeys(r.key["model"] for r in runs))
    bars(ax, runs, lambda r: 100 * r.results["test"]["acc"], "model", models, ylabel="test accuracy (%)",
         title="sentiment (Rotten Tomatoes snippets)")
    if done:
        ax.axhline(100 * sum(base("tfidf_logreg", "acc")) / len(done), color="gray", ls="--",
                   label="TF-IDF + LR")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_ylim(60, 85)
    return "\n".join(lines), fig


STUDY = Study(
    name="sentiment",
    title="sentiment: the default ensemble of 3 BiLSTMs against one of its members and the baselines",
    base=["task=sentiment", "trainer.max_epochs=20"],  # to the plateau: early stopping ends every run, not the cap
    axes={"model": MODELS},
    budget="the sentiment task's defaults trained to the plateau: each run stops 3 epochs after its best val "
           "accuracy (early stopping, cap 20 epochs; the default's 4 epochs are sized for `make run`), and the best "
           "val accuracy's checkpoint is tested",
    report=report,
    rows="model",
    quick=["data=sentiment_fixture", "data.fixture_size=200", "trainer.max_epochs=1", "model.hidden_size=16",
           "model.embed_dim=16"],
    claims=CLAIMS,
)
