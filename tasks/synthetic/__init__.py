"""Synthetic probes: the adding problem (Hochreiter & Schmidhuber 1997)."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="synthetic",
    description="sequence -> vector: the adding problem, a probe of vanishing gradients",
    metrics={"loss": "mean squared error", "mse": "mean squared error",
             "solved": "share of sums right to within 0.04"},
    predict="rnnsuite.tasks.synthetic.predict:predict",
    fixture=("data.seq_len=12", "data.n_train=512", "data.n_val=128", "data.n_test=128"),
    predict_file=PredictCase(("file={file}",), file_text="0.3 0.81* 0.5 0.2 0.9 0.4 0.12* 0.7 0.1 0.6 0.3 0.5\n"),
    predict_args=PredictCase(("text='0.3 0.81* 0.5 0.2 0.9 0.4 0.12* 0.7 0.1 0.6 0.3 0.5'",), same_as_file=True),
)
