"""Synthetic probes: the adding problem (Hochreiter & Schmidhuber 1997)."""
from rnnsuite.registry import Task

TASK = Task(
    name="synthetic",
    description="sequence -> vector: the adding problem, a probe of vanishing gradients",
    metrics={"loss": "mean squared error", "mse": "mean squared error",
             "acc": "share of sums right to within 0.04"},
    fixture=("data.seq_len=12", "data.n_train=512", "data.n_val=128", "data.n_test=128"),
)
