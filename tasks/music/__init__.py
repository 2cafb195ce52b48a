"""Polyphonic music: Bach chorales as piano rolls, synced sequence -> sequence with multi-label outputs."""
from rnnsuite.registry import Task

TASK = Task(
    name="music",
    description="synced sequence -> sequence, multi-label: Bach chorales as piano rolls",
    predict="rnnsuite.tasks.music.predict:predict",
    metrics={"loss": "the same as nll", "nll": "negative log-likelihood per time step (nats)"},
    fixture=("data=music_fixture",),
)
