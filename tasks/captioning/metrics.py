"""Caption scores: multi-reference BLEU-1..4 (sacrebleu) and, for generated scenes, exact content accuracy."""
from .captions import caption_content


def caption_scores(hyps, refs, contents=None):
    """hyps: [str]; refs: [[str]] (any number per image); contents: the true multiset per image (scenes), or None.

    BLEU-n is sacrebleu's corpus BLEU with n-grams up to n (brevity penalty included), as in the captioning
    literature. content_acc is the fraction of captions naming exactly the right items with the right counts.
    """
    import sacrebleu
    hyps = [h.strip() for h in hyps]
    width = max(len(r) for r in refs)
    streams = [[r[j] if j < len(r) else None for r in refs] for j in range(width)]  # None: no such reference
    out = {}
    for n in range(1, 5):
        out[f"bleu{n}"] = sacrebleu.metrics.BLEU(max_ngram_order=n).corpus_score(hyps, streams).score
    if contents is not None and all(c is not None for c in contents):
        out["content_acc"] = sum(caption_content(h) == tuple(c) for h, c in zip(hyps, contents)) / len(hyps)
    return out
