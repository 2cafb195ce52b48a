"""Metrics against values worked out by hand and against sacrebleu itself."""
import math

import numpy as np
import pytest

from rnnsuite.metrics import (CorpusBLEU, CorpusChrF, accuracy, bits_per_char, bleu_chrf, macro_f1, mae, mape, mase,
                              perplexity, rmse, seasonal_naive_scale)


def test_classification_metrics():
    pred, gold = [1, 1, 0, 0, 1], [1, 0, 0, 0, 1]
    assert accuracy(pred, gold) == pytest.approx(0.8)
    # class 1: tp=2 fp=1 fn=0 -> F1 = 4/5; class 0: tp=2 fp=0 fn=1 -> 4/5
    assert macro_f1(pred, gold, 2) == pytest.approx(0.8)
    assert macro_f1([0, 0, 0], [0, 1, 1], 2) == pytest.approx((2 / 4 + 0) / 2)


def test_regression_metrics_by_hand():
    y, yhat = [10.0, 20.0, 40.0], [12.0, 18.0, 30.0]
    assert mae(y, yhat) == pytest.approx(14 / 3)
    assert rmse(y, yhat) == pytest.approx(math.sqrt((4 + 4 + 100) / 3))
    assert mape(y, yhat) == pytest.approx(100 * (0.2 + 0.1 + 0.25) / 3)


def test_mase_hand_computed():
    # Seasonal period 2 on the training series 1, 3, 2, 6, 4: |2-1| + |6-3| + |4-2| = 6 over 3 -> scale 2.
    train = [1, 3, 2, 6, 4]
    assert seasonal_naive_scale(train, 2) == pytest.approx(2.0)
    assert mase([5, 7], [4, 9], 2.0) == pytest.approx(((1 + 2) / 2) / 2)
    # The seasonal-naive forecast itself, scored in-sample, has MASE exactly 1.
    x = np.array(train, dtype=float)
    assert mase(x[2:], x[:-2], seasonal_naive_scale(train, 2)) == pytest.approx(1.0)


def test_information_units():
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert perplexity(math.log(7)) == pytest.approx(7.0)


def test_bleu_chrf_agree_with_sacrebleu():
    import sacrebleu
    hyps = ["the cat sat on the mat", "a dog barks loudly"]
    streams = [["the cat sat on the mat", "the dog barks loudly"]]  # sacrebleu's layout: one stream per reference
    out = bleu_chrf(hyps, [[r] for r in streams[0]])
    assert out["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, streams).score)
    assert out["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, streams).score)
    assert out["bleu_signature"].startswith("nrefs:1")
    assert bleu_chrf(["the same five words here"], [["the same five words here"]])["bleu"] == pytest.approx(100.0)


SENTENCES = [("the cat sat on the mat", ["the cat sat on the mat", "a cat was on the mat"]),
             ("a dog barks loudly at night", ["the dog barks loudly", "at night a dog barks"]),
             ("it rains", ["it is raining", "rain falls"]),
             ("the old man and the sea", ["the old man and the sea"]),
             ("nothing matches here", ["completely different words", "none alike"])]


@pytest.mark.parametrize("metric,score", [(lambda: CorpusBLEU(), "corpus_bleu"), (lambda: CorpusChrF(), "corpus_chrf"),
                                          (lambda: CorpusBLEU(max_ngram_order=2), "bleu2")])
def test_corpus_metrics_accumulate_and_merge_like_one_corpus(metric, score):
    """Batches, and states merged the way DDP syncs them (sum), give sacrebleu's score on the whole corpus,
    not a mean of per-batch scores."""
    import sacrebleu
    hyps = [h for h, _ in SENTENCES]
    streams = [[r[j] if j < len(r) else None for _, r in SENTENCES] for j in range(2)]
    whole = (sacrebleu.metrics.BLEU(max_ngram_order=2).corpus_score(hyps, streams).score if score == "bleu2"
             else getattr(sacrebleu, score)(hyps, streams).score)
    batched = metric()
    for h, refs in SENTENCES:
        batched.update([h], [refs])
    assert float(batched.compute()) == pytest.approx(whole)
    one, two = metric(), metric()
    one.update(hyps[:2], [r for _, r in SENTENCES[:2]])
    two.update(hyps[2:], [r for _, r in SENTENCES[2:]])
    one.merge_state(two)
    assert float(one.compute()) == pytest.approx(whole)
    # ... which is not what averaging the two halves' scores would give
    halves = [metric(), metric()]
    halves[0].update(hyps[:2], [r for _, r in SENTENCES[:2]])
    halves[1].update(hyps[2:], [r for _, r in SENTENCES[2:]])
    assert whole != pytest.approx(sum(float(m.compute()) for m in halves) / 2)
