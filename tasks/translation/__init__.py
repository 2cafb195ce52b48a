"""Translation: encoder -> decoder (N-to-M) on English -> Spanish Bible verses, with attention and beam search."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="translation",
    description="encoder -> decoder: English -> Spanish Bible verses, attention and beam search",
    predict="rnnsuite.tasks.translation.predict:predict",
    metrics={"loss": "cross-entropy per target token, teacher-forced", "token_acc": "token accuracy, teacher-forced",
             "bleu": "corpus BLEU of beam-search output (sacrebleu)", "chrf": "corpus chrF of beam-search output",
             "bleu_beam1": "corpus BLEU of greedy output", "chrf_beam1": "corpus chrF of greedy output"},
    fixture=("data=dates_fixture", "data.fixture_size=600", "model.hidden_size=32", "model.embed_dim=16"),
    predict_file=PredictCase(("file={file}", "beam_size=2"), file_text="3 de marzo de 2021\n"),
    predict_args=PredictCase(("text='3 de marzo de 2021'", "beam_size=2"), same_as_file=True),
)
