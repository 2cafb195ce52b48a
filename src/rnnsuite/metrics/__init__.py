"""Metrics shared by the tasks.

Where torchmetrics has a metric, it is used: the classes (accuracy, F1, ...) accumulate over an epoch and sync
across processes under DDP; the functions here wrap its functional forms for the baselines, which score
numpy predictions. torchmetrics lacks corpus BLEU/chrF with sacrebleu's exact tokenisation, smoothing and
brevity penalty, so `CorpusBLEU` / `CorpusChrF` are torchmetrics `Metric`s that sum sacrebleu's own sufficient
statistics (over batches, and over processes) and apply sacrebleu's formula to the sums. MASE's scale,
bits per character and perplexity are one-liners written out here. Tests pin every value against hand
computations or sacrebleu itself.
"""
import math

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.functional import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_f1_score


def _tensor(x, dtype=None):
    x = np.asarray(x)  # torchmetrics views its inputs flat: contiguous, and a copy where numpy's is read-only
    return torch.as_tensor(np.ascontiguousarray(x) if x.flags.writeable else x.copy(), dtype=dtype)


def _labels(pred, target, num_classes):
    pred, target = _tensor(pred, torch.long), _tensor(target, torch.long)
    return pred, target, num_classes or int(max(pred.max(), target.max())) + 1


def accuracy(pred, target, num_classes=None):
    """Share of predicted labels equal to the target."""
    pred, target, k = _labels(pred, target, num_classes)
    return float(multiclass_accuracy(pred, target, num_classes=k, average="micro"))


def macro_f1(pred, target, num_classes=None):
    """Unweighted mean of per-class F1 (a class absent from both prediction and target does not count)."""
    pred, target, k = _labels(pred, target, num_classes)
    return float(multiclass_f1_score(pred, target, num_classes=k, average="macro"))


def mae(y, yhat):
    return float(mean_absolute_error(_tensor(yhat, torch.float64), _tensor(y, torch.float64)))


def rmse(y, yhat):
    return float(mean_squared_error(_tensor(yhat, torch.float64), _tensor(y, torch.float64), squared=False))


def mape(y, yhat):
    """Mean absolute percentage error, in percent."""
    return 100 * float(mean_absolute_percentage_error(_tensor(yhat, torch.float64), _tensor(y, torch.float64)))


def mase(y, yhat, scale):
    """MAE scaled by `scale`: the in-sample MAE of the seasonal-naive forecast on the training series
    (see `seasonal_naive_scale`)."""
    return mae(y, yhat) / scale


def seasonal_naive_scale(train_series, season):
    """Mean |y_t - y_{t-m}| over the training series: the MASE denominator (Hyndman & Koehler 2006)."""
    x = np.asarray(train_series, dtype=float)
    return float(np.mean(np.abs(x[season:] - x[:-season])))


def bits_per_char(nats_per_char):
    return nats_per_char / math.log(2)


def perplexity(nats_per_token):
    return math.exp(nats_per_token)


class CorpusScore(Metric):
    """A sacrebleu corpus metric as a torchmetrics `Metric`. `update(hypotheses, references)` takes, per
    hypothesis, a list of its references (any number); `compute()` equals sacrebleu's `corpus_score` over every
    sentence seen since the last reset, in this process and, under DDP, in all others."""
    full_state_update = False

    def __init__(self, scorer, **kwargs):
        super().__init__(**kwargs)
        self.scorer = scorer
        width = len(scorer._extract_corpus_statistics(["a"], [["a"]])[0])
        self.add_state("stats", default=torch.zeros(width, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, hypotheses, references):
        hypotheses, references = [str(h) for h in hypotheses], [list(r) for r in references]
        if not hypotheses:
            return
        width = max(len(r) for r in references)  # sacrebleu's streams; None marks a missing reference
        streams = [[r[j] if j < len(r) else None for r in references] for j in range(width)]
        stats = self.scorer._extract_corpus_statistics(hypotheses, streams)
        self.stats += torch.tensor(stats, dtype=torch.float64, device=self.stats.device).sum(0)

    def score(self):
        """sacrebleu's score object for the summed statistics (call `compute()` for the synced value)."""
        return self.scorer._compute_score_from_stats([int(round(v)) for v in self.stats.tolist()])

    def compute(self):
        return torch.tensor(self.score().score, dtype=torch.float64)

    def signature(self):
        return str(self.scorer.get_signature())


class CorpusBLEU(CorpusScore):
    """Corpus BLEU-n (default n = 4) exactly as sacrebleu computes it."""

    def __init__(self, max_ngram_order=4, **kwargs):
        import sacrebleu
        super().__init__(sacrebleu.metrics.BLEU(max_ngram_order=max_ngram_order), **kwargs)


class CorpusChrF(CorpusScore):
    """Corpus chrF exactly as sacrebleu computes it."""

    def __init__(self, **kwargs):
        import sacrebleu
        super().__init__(sacrebleu.metrics.CHRF(), **kwargs)


def bleu_chrf(hypotheses, references):
    """Corpus BLEU and chrF with sacrebleu's signatures. references: per hypothesis, a list of references.
    A score of exactly these sentences: it never syncs with other processes (under DDP, rank 0 alone scores the
    baselines and the reports, and a sync there would wait for processes that never join)."""
    out = {}
    for name, metric in (("bleu", CorpusBLEU(sync_on_compute=False)), ("chrf", CorpusChrF(sync_on_compute=False))):
        metric.update(hypotheses, references)
        out[name] = float(metric.compute())
        out[f"{name}_signature"] = metric.signature()
    return out


class SplitMetrics(torch.nn.Module):
    """A set of torchmetrics for each split: `metrics["val"]` is that split's {name: Metric}. They are submodules,
    so they move to the model's device; Lightning computes, resets and syncs the ones logged with `log_split`.
    `make(split)` returns the {name: Metric} of one split."""

    def __init__(self, make, splits=("train", "val", "test")):
        super().__init__()
        # "train" cannot be a key of a ModuleDict (it is a Module method), hence the prefix
        self.by_split = torch.nn.ModuleDict({f"split_{s}": torch.nn.ModuleDict(make(s)) for s in splits})

    def __getitem__(self, split):
        return self.by_split[f"split_{split}"]
