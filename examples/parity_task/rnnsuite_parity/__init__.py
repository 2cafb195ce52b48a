"""Parity of a bit string: sequence -> vector. Is the number of 1s odd?

An example of a task that another distribution adds to rnnsuite (see docs/add_a_task.md): this package holds
the data, the model, the prediction and the configs, and its pyproject.toml registers `TASK` in the
`rnnsuite.tasks` entry-point group."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="parity",
    description="sequence -> vector: whether a bit string holds an odd number of 1s",
    predict="rnnsuite_parity.predict:predict",
    config="rnnsuite_parity.conf",   # holds task/parity.yaml and data/parity*.yaml
    metrics={"loss": "cross-entropy", "acc": "accuracy"},
    fixture=("data=parity_small",),
    predict_file=PredictCase(("file={file}",), file_text="1011\n"),
    predict_args=PredictCase(("text='1011'",), same_as_file=True),  # quoted: Hydra would read 0110 as a number
)
