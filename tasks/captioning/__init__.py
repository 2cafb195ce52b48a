"""Captioning: vector -> sequence. A CNN encodes the image; an RNN decoder writes the caption."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="captioning",
    description="vector -> sequence: captions for scenes of Fashion-MNIST items (or Karpathy-split photos)",
    predict="rnnsuite.tasks.captioning.predict:predict",
    metrics={"loss": "cross-entropy per token of one reference, teacher-forced",
             "bleu1": "corpus BLEU-1 against all references (sacrebleu)", "bleu2": "corpus BLEU-2",
             "bleu3": "corpus BLEU-3", "bleu4": "corpus BLEU-4",
             "content_acc": "share of captions naming exactly the right items and counts (scenes only)"},
    fixture=("data=captioning_fixture", "model.beam_size=2"),
    predict_file=PredictCase(("image={file}",), file_name="scene.png",
                             file_maker="rnnsuite.tasks.captioning.predict:example_image"),
    predict_args=PredictCase(("image={dir}",), same_as_file=True),  # a folder holding the same image
)
