"""Metrics shared by the tasks. Plain functions on tensors / arrays, checked against known values in tests."""
import math

import numpy as np
import torch


def accuracy(pred, target):
    pred, target = torch.as_tensor(np.array(pred)), torch.as_tensor(np.array(target))
    return (pred == target).float().mean().item()


def macro_f1(pred, target, num_classes=None):
    """Unweighted mean of per-class F1 (a class absent from both pred and target is skipped)."""
    pred, target = torch.as_tensor(np.array(pred)), torch.as_tensor(np.array(target))
    k = num_classes or int(max(pred.max(), target.max())) + 1
    scores = []
    for c in range(k):
        tp = ((pred == c) & (target == c)).sum().item()
        fp = ((pred == c) & (target != c)).sum().item()
        fn = ((pred != c) & (target == c)).sum().item()
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


def mae(y, yhat):
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(yhat))))


def rmse(y, yhat):
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(yhat)) ** 2)))


def mape(y, yhat):
    """Mean absolute percentage error, in percent."""
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    return float(100 * np.mean(np.abs((y - yhat) / y)))


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


def bleu_chrf(hypotheses, references):
    """Corpus BLEU and chrF from sacrebleu. references: list of reference streams (each a list aligned to
    hypotheses), as sacrebleu expects. Returns a dict with the scores and sacrebleu's signatures."""
    import sacrebleu
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    b = bleu.corpus_score(list(hypotheses), [list(r) for r in references])
    c = chrf.corpus_score(list(hypotheses), [list(r) for r in references])
    return {"bleu": b.score, "chrf": c.score,
            "bleu_signature": str(bleu.get_signature()), "chrf_signature": str(chrf.get_signature())}
