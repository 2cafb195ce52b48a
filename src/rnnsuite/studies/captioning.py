"""captioning: attention, no attention and a blind decoder on scenes of Fashion-MNIST items."""
from .base import Study, bars, table
from .verdict import Claim

MODELS = {"attention": [], "no attention": ["model.attention=none"], "blind": ["model.blind=true"]}


def bleu(r):
    return r.results["test"]["bleu4"]


CLAIMS = [
    Claim("attention-beats-no-attention", "Soft attention (A) scores a higher test BLEU-4 than the decoder that sees "
          "the image once (B)", "soft attention above Show and Tell on Flickr8k/30k and COCO (Xu et al. 2015, "
          "Table 1)", bleu, "greater", where={"model": "attention"}, versus={"model": "no attention"}, digits=1),
    Claim("no-attention-beats-blind", "The decoder that sees the image (A) beats a blind decoder that never does (B)",
          "a caption model must use the image: the blind language model is the lower bound (Vinyals et al. 2015)",
          bleu, "greater", where={"model": "no attention"}, versus={"model": "blind"}, digits=1),
    Claim("attention-content", "Soft attention (A) names the right items and counts more often than no attention "
          "(B) (content accuracy)", "attention looks at the right place for each word (Xu et al. 2015, section 5.4)",
          lambda r: r.results["test"]["content_acc"], "greater", where={"model": "attention"},
          versus={"model": "no attention"}, digits=1, scale=100.0, unit="%"),
]


def report(study, runs):
    from ..plots import figure
    lines = ["## Test BLEU-4 (mean ± std over seeds)", "",
             table(runs, "model", None, lambda r: r.results["test"]["bleu4"], "test BLEU-4", digits=1), "",
             "## Test content accuracy (the caption names exactly the right items and counts)", "",
             table(runs, "model", None, lambda r: r.results["test"]["content_acc"], "test content accuracy",
                   pct=True, scale=100.0), "",
             "## Published", "",
             "Xu et al. 2015 (Show, Attend and Tell) report soft attention above the Show-and-Tell decoder "
             "(Vinyals et al. 2015) on Flickr8k, Flickr30k and COCO; a blind decoder is the usual lower bound.", "",
             "Protocol differences: generated scenes of real Fashion-MNIST items with template captions, not "
             "photographs; BLEU here is far higher than on natural captions and not comparable in value, only "
             "in ranking.", ""]
    fig, axes = figure(1, 2, figsize=(10, 3.8))
    models = list(dict.fromkeys(r.key["model"] for r in runs))
    bars(axes[0], runs, lambda r: r.results["test"]["bleu4"], "model", models, title="test BLEU-4")
    bars(axes[1], runs, lambda r: 100 * r.results["test"]["content_acc"], "model", models,
         title="test content accuracy (%)")
    return "\n".join(lines), fig


STUDY = Study(
    name="captioning",
    title="captioning: attention, no attention and a blind decoder",
    base=["task=captioning"],
    axes={"model": MODELS},
    budget="the captioning task's defaults",
    report=report,
    rows="model",
    claims=CLAIMS,
    quick=["data=captioning_fixture", "data.n_train=32", "data.n_val=16", "data.n_test=16", "trainer.max_epochs=1",
           "model.hidden_size=16", "model.embed_dim=16", "model.feature_dim=16"],
)
