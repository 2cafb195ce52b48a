"""Polyphonic music: Bach chorales as piano rolls, synced sequence -> sequence with multi-label outputs."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="music",
    description="synced sequence -> sequence, multi-label: Bach chorales as piano rolls",
    predict="rnnsuite.tasks.music.predict:predict",
    metrics={"loss": "the same as nll", "nll": "negative log-likelihood per time step (nats)"},
    fixture=("data=music_fixture",),
    predict_file=PredictCase(("file={file}", "length=8", "out={dir}/continued"), file_name="start.mid",
                             file_maker="rnnsuite.tasks.music.predict:example_midi"),
    predict_args=PredictCase(("length=16", "temperature=0.9", "out={dir}/generated")),
)
