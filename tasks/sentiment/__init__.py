"""Sentiment: sequence -> vector on Rotten Tomatoes snippets."""
from rnnsuite.registry import Task

TASK = Task(
    name="sentiment",
    description="sequence -> vector: sentiment of Rotten Tomatoes snippets",
    predict="rnnsuite.tasks.sentiment.predict:predict",
    metrics={"loss": "cross-entropy", "acc": "accuracy", "macro_f1": "unweighted mean of per-class F1"},
    fixture=("data=sentiment_fixture",),
)
