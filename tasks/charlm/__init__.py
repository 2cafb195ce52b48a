"""Character-level language model: synced sequence -> sequence, truncated BPTT, sampling."""
from rnnsuite.registry import Task

TASK = Task(
    name="charlm",
    description="synced sequence -> sequence: a character-level language model of Shakespeare (truncated BPTT)",
    predict="rnnsuite.tasks.charlm.predict:predict",
    metrics={"loss": "cross-entropy per character (nats)", "bpc": "bits per character"},
    fixture=("data=charlm_fixture", "model.hidden_size=64"),
)
