"""Caption scores: multi-reference corpus BLEU-1..4 (sacrebleu's statistics, as torchmetrics Metrics) and, for
generated scenes, exact content accuracy."""
import torch
from torch import nn
from torchmetrics import MeanMetric

from rnnsuite.metrics import CorpusBLEU

from .captions import caption_content


def content_correct(hyps, contents):
    """1.0 per caption that names exactly the right items with the right counts, else 0.0."""
    return [float(caption_content(h) == tuple(c)) for h, c in zip(hyps, contents)]


class CaptionMetrics(nn.Module):
    """BLEU-n is corpus BLEU with n-grams up to n (brevity penalty included) against all references, as in the
    captioning literature; content_acc is the share of captions naming exactly the right items and counts
    (scenes only: updated only where the true contents are known)."""

    def __init__(self, sync=True):
        super().__init__()
        kw = {"sync_on_compute": sync}
        self.scores = nn.ModuleDict({**{f"bleu{n}": CorpusBLEU(max_ngram_order=n, **kw) for n in range(1, 5)},
                                     "content_acc": MeanMetric(**kw)})

    def update(self, hyps, refs, contents=None):
        hyps = [h.strip() for h in hyps]
        for n in range(1, 5):
            self.scores[f"bleu{n}"].update(hyps, refs)
        if contents is not None and all(c is not None for c in contents):
            self.scores["content_acc"].update(torch.tensor(content_correct(hyps, contents)))

    def scored(self):
        """The metrics that received data (content_acc only for scenes)."""
        return {k: m for k, m in self.scores.items() if m.update_called}


def caption_scores(hyps, refs, contents=None):
    """hyps: [str]; refs: [[str]] (any number per image); contents: the true multiset per image (scenes), or None.
    Returns {"bleu1".."bleu4"[, "content_acc"]} as floats: a score of exactly these captions, never synced with
    other processes (under DDP, rank 0 alone scores the baselines)."""
    metrics = CaptionMetrics(sync=False)
    metrics.update(hyps, refs, contents)
    return {k: float(m.compute()) for k, m in metrics.scored().items()}
