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


def test_world_english_bible_rewords_the_test_sources(tmp_path, monkeypatch):
    """The reworded test: WEB verses fetched from Debian, footnotes removed without gluing words, matched to
    the test verses by reference, contractions applied; the references stay the Reina-Valera verses."""
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(tmp_path / "data"))
    from rnnsuite.data import get_source
    from rnnsuite.data.sources.bible import load_web
    from rnnsuite.tasks.translation.data import TranslationDataModule
    web = load_web(get_source("bible_web").fetch())
    assert web[("Genesis", 1, 1)] == "In the beginning, God created the heavens and the earth."
    dm = TranslationDataModule("bible", max_src_words=20, max_tgt_words=30, test_max_src_words=50,
                               test_max_tgt_words=75, src_vocab_size=2000, tgt_vocab_size=2000, reworded="web")
    dm.prepare_data()
    dm.setup()
    rw = dm.reworded_test()
    test = dm.splits["test"]
    assert len(rw) > 0.9 * len(test)
    assert all(test["tgt"][r] == t for r, t in zip(rw["row"], rw["tgt"]))
    assert rw["src"].str.contains("’").any() and not rw["src"].str.contains(r"\bdo not\b").any()
