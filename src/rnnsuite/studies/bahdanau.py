"""bahdanau: translation with and without attention, BLEU by source length, greedy and beam."""
from .base import Study, fmt_mean_std, group_values, mean_std

MODELS = {"attention": [], "no attention": ["model.attention=none"]}
# Bahdanau, Cho & Bengio 2015, Table 1: English -> French (WMT'14), BLEU on all test sentences.
PUBLISHED = [("RNNencdec-50 (no attention)", 17.82), ("RNNsearch-50 (attention)", 26.75)]


def beam_order(names):
    """'beam1', 'beam5', ... (the results' names of the decodings) sorted by beam size."""
    return sorted(names, key=lambda b: int(b[4:]))


def decoding(b):
    """'greedy' for 'beam1', 'beam 5' for 'beam5'."""
    return "greedy" if b == "beam1" else f"beam {b[4:]}"


def beams(run):
    """The run's decodings, e.g. ['beam1', 'beam5']."""
    return beam_order(run.results.get("bleu_by_source_length", {}))


def report(study, runs):
    from ..plots import figure
    models = list(dict.fromkeys(r.key["model"] for r in runs))
    done = [r for r in runs if r.results]
    keys = sorted({k for r in done for k in r.results["test"] if k.startswith(("bleu", "chrf"))})
    lines = ["## Test BLEU and chrF (sacrebleu; mean ± std over seeds)", "",
             "| model | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for m in models:
        lines.append(f"| {m} | " + " | ".join(fmt_mean_std(group_values(runs, lambda r, k=k: r.results["test"].get(k),
                                                                          model=m), 1) for k in keys) + " |")
    lines += ["", "`bleu`/`chrf` are beam search (the model's beam size), `_beam1` greedy.", "",
              "## BLEU by English source length (greedy / beam)", ""]
    buckets = []
    for r in done:
        for b in beams(r):
            buckets += [k for k in r.results["bleu_by_source_length"][b] if k not in buckets]
    if buckets:
        lines += ["| model | decoding | " + " | ".join(f"{b} words" for b in buckets) + " |",
                  "|---" * (len(buckets) + 2) + "|"]
        for m in models:
            for b in beam_order({b for r in done if r.key["model"] == m for b in beams(r)}):
                cells = [fmt_mean_std(group_values(runs, lambda r, b=b, k=k: r.results["bleu_by_source_length"]
                                                   .get(b, {}).get(k, {}).get("bleu"), model=m), 1) for k in buckets]
                lines.append(f"| {m} | {decoding(b)} | " + " | ".join(cells) + " |")
    reworded = [r for r in done if r.results.get("reworded")]
    if reworded:
        lines += ["", "## Reworded sources (the test verses in modern wording, as rnn-predict reads them)", "",
                  "| model | decoding | BLEU, KJV sources | BLEU, reworded | chrF, KJV sources | chrF, reworded |",
                  "|---|---|---|---|---|---|"]
        for m in models:
            for b in beam_order({b for r in reworded if r.key["model"] == m for b in r.results["reworded"]}):
                cells = [fmt_mean_std(group_values(reworded, lambda r, b=b, k=k: r.results["reworded"].get(b, {})
                                                   .get(k), model=m), 1)
                         for k in ("bleu_original", "bleu", "chrf_original", "chrf")]
                lines.append(f"| {m} | {decoding(b)} | " + " | ".join(cells) + " |")
    lines += ["", "## Published", ""] + [f"- Bahdanau et al. 2015, {n}: BLEU {v} (English → French, WMT'14)"
                                         for n, v in PUBLISHED]
    lines += ["", "Their Fig. 2: without attention BLEU falls steeply with sentence length; with attention it "
              "holds up to about 50 words.", "",
              "Protocol differences: English → Spanish Bible verses (KJV → Reina-Valera 1909) with a far smaller "
              "model and budget, BPE vocabularies, a Luong (general) attention by default.", ""]
    fig, ax = figure(figsize=(7.5, 4.2))
    for i, m in enumerate(models):
        for b, ls in (("beam1", "--"), (None, "-")):
            runs_m = [r for r in done if r.key["model"] == m]
            if not runs_m:
                continue
            b = b or beams(runs_m[0])[-1]
            means = [mean_std(group_values(runs, lambda r, b=b, k=k: r.results["bleu_by_source_length"].get(b, {})
                                           .get(k, {}).get("bleu"), model=m))[0] for k in buckets]
            ax.plot(range(len(buckets)), means, ls=ls, marker="o", color=f"C{i}",
                    label=f"{m}, {decoding(b)}")
    ax.set_xticks(range(len(buckets)), buckets)
    ax.set_xlabel("source length (words)")
    ax.set_ylabel("BLEU (mean over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("BLEU by source length")
    return "\n".join(lines), fig


STUDY = Study(
    name="bahdanau",
    title="bahdanau: translation with and without attention, BLEU by source length",
    base=["task=translation"],
    axes={"cell": {"LSTM": ["cell=lstm"]}, "model": MODELS},
    budget="the translation task's defaults: 55 minutes of training (max_time; one core each when two run at "
           "a time), then the test set decoded greedily and with beam 5; how far a run gets in that time depends "
           "on the machine the header names",
    report=report,
    rows="model",
    records=True,  # 6 runs of 55 min: more than one sitting
    quick=["data=dates_fixture", "data.fixture_size=300", "model.hidden_size=16", "model.embed_dim=16",
           "model.num_heatmaps=0", "trainer.max_epochs=1", "model.beam_size=2"],
)
