"""mr: sentiment on the Rotten Tomatoes snippets for tanh RNN, LSTM and GRU, uni- and bidirectional."""
from .base import Study, bars, table

CELLS = {"tanh RNN": ["cell=rnn"], "LSTM": ["cell=lstm"], "GRU": ["cell=gru"]}
DIRECTIONS = {"unidirectional": ["model.bidirectional=false"], "bidirectional": ["model.bidirectional=true"]}
# Published accuracies on the Pang & Lee movie-review sentences (10-fold cross-validation).
PUBLISHED = [("NB-SVM (Wang & Manning 2012)", 79.4), ("CNN-rand (Kim 2014)", 76.1), ("CNN-static (Kim 2014)", 81.0)]


def report(study, runs):
    from ..plots import figure
    acc = lambda r: r.results["test"]["acc"]  # noqa: E731
    tfidf = [r.results["baselines"]["tfidf_logreg"]["acc"] for r in runs if r.results]
    major = [r.results["baselines"]["majority_class"]["acc"] for r in runs if r.results]
    lines = ["## Test accuracy (mean ± std over seeds)", "",
             table(runs, "cell", "direction", acc, pct=True, scale=100.0), "",
             "## Test macro-F1", "",
             table(runs, "cell", "direction", lambda r: r.results["test"]["macro_f1"], pct=True, scale=100.0), "",
             "## Baselines and published figures", "",
             "| model | accuracy | protocol |", "|---|---|---|"]
    if tfidf:
        lines.append(f"| TF-IDF (1–2 grams) + logistic regression, fitted on our train split | "
                     f"{100 * sum(tfidf) / len(tfidf):.1f}% | ours |")
        lines.append(f"| majority class | {100 * sum(major) / len(major):.1f}% | ours |")
    lines += [f"| {name} | {value}% | MR, 10-fold CV |" for name, value in PUBLISHED]
    lines += ["", "Protocol differences: our test split is 10% of 12,808 Rotten Tomatoes snippets (10,456 of them are "
              "MR sentences), one stratified split, not MR's 10-fold cross-validation; Kim's CNNs use word2vec "
              "(static) or random (rand) embeddings, ours are learned from scratch.", ""]
    fig, ax = figure(figsize=(7.5, 4))
    cells = list(dict.fromkeys(r.key["cell"] for r in runs))
    dirs = list(dict.fromkeys(r.key["direction"] for r in runs))
    bars(ax, runs, lambda r: 100 * acc(r), "cell", cells, "direction", dirs, "test accuracy (%)",
         "sentiment (Rotten Tomatoes snippets)")
    if tfidf:
        ax.axhline(100 * sum(tfidf) / len(tfidf), color="gray", ls="--", label="TF-IDF + LR (ours)")
    for k, (name, value) in enumerate(PUBLISHED):
        ax.axhline(value, color=f"C{k + 3}", ls=":", label=name)
    ax.set_ylim(60, 85)
    ax.legend(fontsize=7, loc="lower right")
    return "\n".join(lines), fig


STUDY = Study(
    name="mr",
    title="mr: sentiment for tanh RNN, LSTM and GRU, uni- and bidirectional",
    base=["task=sentiment"],
    axes={"cell": CELLS, "direction": DIRECTIONS},
    budget="the sentiment task's defaults",
    report=report,
    quick=["data=sentiment_fixture", "data.fixture_size=200", "trainer.max_epochs=1", "model.hidden_size=16",
           "model.embed_dim=16"],
    quick_axes={"direction": ["bidirectional"]},
)
