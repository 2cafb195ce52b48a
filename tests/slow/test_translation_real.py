"""The real corpus: fetch the two Debian SWORD Bibles, check the pair count, the split and the filter."""
import pytest

pytestmark = pytest.mark.slow


def test_bible_pairs_fetch_and_split(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(tmp_path / "data"))
    from rnnsuite.data import get_source
    from rnnsuite.data.sources.bible import EXPECTED_PAIRS, load
    from rnnsuite.tasks.translation.data import TranslationDataModule
    raw = get_source("bible").fetch()
    df = load(raw)
    assert len(df) == EXPECTED_PAIRS == 31084
    first = df.iloc[0]
    assert first["en"].startswith("In the beginning God created") and first["es"].startswith("EN el principio")
    dm = TranslationDataModule("bible", max_src_words=20, max_tgt_words=30, src_vocab_size=2000,
                               tgt_vocab_size=2000)
    dm.setup()
    assert dm.raw_pairs == 31084
    chapters = {k: set(v["group"]) for k, v in dm.splits.items()}
    assert not (chapters["train"] & chapters["test"]) and not (chapters["val"] & chapters["test"])
    assert 10000 < sum(len(v) for v in dm.splits.values()) < 14000  # verses of <= 20 English words
