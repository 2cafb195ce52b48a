"""Sentiment: sequence -> vector on Rotten Tomatoes snippets."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="sentiment",
    description="sequence -> vector: sentiment of Rotten Tomatoes snippets",
    predict="rnnsuite.tasks.sentiment.predict:predict",
    metrics={"loss": "cross-entropy", "acc": "accuracy", "macro_f1": "unweighted mean of per-class F1",
             "balanced_acc": "mean recall per class (a majority-class guess gets 0.5)"},
    fixture=("data=sentiment_fixture",),
    predict_file=PredictCase(("file={file}",), file_text="a superb and witty film\n"),
    predict_args=PredictCase(("text='a superb and witty film'",), same_as_file=True),
)
