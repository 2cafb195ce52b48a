"""Character-level language model: synced sequence -> sequence, truncated BPTT, sampling."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="charlm",
    description="synced sequence -> sequence: a character-level language model of Shakespeare (truncated BPTT)",
    predict="rnnsuite.tasks.charlm.predict:predict",
    metrics={"loss": "cross-entropy per character (nats)", "bpc": "bits per character"},
    fixture=("data=charlm_fixture", "model.hidden_size=64", "trainer.precision=32-true"),
    predict_file=PredictCase(("file={file}", "length=40", "temperature=0.8"), file_text="ROMEO:"),
    predict_args=PredictCase(("prime=ROMEO:", "length=40", "temperature=0.8"), same_as_file=True),
)
