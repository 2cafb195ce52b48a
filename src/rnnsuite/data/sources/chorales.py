"""Bach's 371 four-part chorales (Riemenschneider numbering) from music21's bundled corpus, as piano rolls.

music21 (BSD) ships the corpus inside its wheel, so nothing is downloaded: "fetch" only checks that music21 is
installed. Parsing all chorales takes a minute, so `prepare` caches the piano rolls in
data/processed/chorales/rolls_<resolution>.npz.

A piano roll samples the score every `resolution` quarter notes (1.0 = quarter notes, as in Boulanger-Lewandowski
et al. 2012's JSB Chorales): frame t has pitch p on when a note of pitch p sounds at time t * resolution.
"""
import math
import os

import numpy as np

from ..fetch import DataError, atomic_path, data_dir
from ..registry import Source

NUM_CHORALES = 371


def music21():
    """Import music21 with a writable HOME: it writes a user settings file there."""
    home = os.environ.get("HOME")
    if not home or not os.access(home, os.W_OK):
        d = data_dir() / "music21_home"
        d.mkdir(parents=True, exist_ok=True)
        os.environ["HOME"] = str(d)
    try:
        import music21 as m21
    except ImportError:
        raise DataError("music21 is not installed: `pip install music21` (or the project's [data] extra)") from None
    return m21


def piano_roll(score, resolution=1.0):
    """A parsed score -> bool [T, 128] (MIDI pitches), one frame every `resolution` quarter notes."""
    T = max(1, math.ceil(float(score.highestTime) / resolution - 1e-9))
    roll = np.zeros((T, 128), dtype=bool)
    for n in score.flatten().notes:  # notes and chords of every part, at absolute offsets
        start, end = float(n.offset), float(n.offset + n.quarterLength)
        if end <= start:  # grace notes take no time
            continue
        a, b = math.ceil(start / resolution - 1e-9), math.ceil(end / resolution - 1e-9)
        for p in n.pitches:
            roll[a:b, int(p.midi)] = True
    return roll


def build_rolls(resolution=1.0):
    """{"rolls": list of bool [T, 128], "ids": Riemenschneider numbers, "titles"} for all 371 chorales."""
    m21 = music21()
    it = m21.corpus.chorales.Iterator(returnType="filename")
    rolls, ids, names = [], [], []
    for number, fname in enumerate(it, start=1):
        score = m21.corpus.parse(fname)
        rolls.append(piano_roll(score, resolution))
        ids.append(number)
        names.append(str(fname))
    if len(rolls) != NUM_CHORALES:
        raise DataError(f"music21's chorale iterator gave {len(rolls)} chorales, expected {NUM_CHORALES}")
    return {"rolls": rolls, "ids": ids, "names": names}


def cache_path(resolution):
    return data_dir() / "processed" / "chorales" / f"rolls_{resolution:g}.npz"


def load_rolls(resolution=1.0):
    """The cached piano rolls (built on first use): (list of bool [T, 128], ids, names)."""
    path = cache_path(resolution)
    if not path.is_file():
        print(f"parsing {NUM_CHORALES} chorales with music21 (about a minute, cached in {path}) …", flush=True)
        built = build_rolls(resolution)
        lengths = np.array([len(r) for r in built["rolls"]])
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, frames=np.concatenate(built["rolls"]), lengths=lengths,
                                    ids=np.array(built["ids"]), names=np.array(built["names"]))
    z = np.load(path)
    rolls = np.split(z["frames"], np.cumsum(z["lengths"])[:-1])
    return rolls, z["ids"].tolist(), z["names"].tolist()


def _fetch(raw_dir, work):
    music21()  # nothing to download: the corpus is inside the music21 wheel
    (raw_dir / "SOURCE").write_text("music21 corpus.chorales.Iterator() (Riemenschneider numbering)\n")


def _present(raw_dir):
    try:
        music21()
    except DataError:
        return False
    return (raw_dir / "SOURCE").is_file()


SOURCES = [Source(
    name="chorales",
    description="371 Bach chorales (Riemenschneider), four voices, as piano rolls",
    origin="PyPI music21 (its bundled corpus; nothing downloaded)",
    fetch_fn=_fetch,
    is_present=_present,
    prepare_fn=lambda raw, processed: load_rolls(1.0),
    tags=["music"],
)]
