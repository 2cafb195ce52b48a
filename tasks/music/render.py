"""Piano rolls as people meet them: a MIDI file, a piano-roll picture, a line per frame."""
from pathlib import Path

import numpy as np

from rnnsuite.atomic import atomic_path
from rnnsuite.data.sources.chorales import music21
from rnnsuite.plots import figure, save_figure

NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def note_name(midi):
    return f"{NAMES[midi % 12]}{midi // 12 - 1}"


def write_midi(roll, path, resolution=1.0, tempo=80):
    """bool [T, 128] -> MIDI file. A pitch held over consecutive frames becomes one note."""
    m21 = music21()
    part = m21.stream.Part()
    part.insert(0, m21.tempo.MetronomeMark(number=tempo))
    T = len(roll)
    for p in np.flatnonzero(roll.any(0)):
        on = np.concatenate([[False], roll[:, p], [False]]).astype(int)
        starts, ends = np.flatnonzero(np.diff(on) == 1), np.flatnonzero(np.diff(on) == -1)
        for a, b in zip(starts, ends):
            n = m21.note.Note(int(p))
            n.quarterLength = float((b - a) * resolution)
            part.insert(float(a * resolution), n)
    if T and not roll.any():  # an all-silent sample still gives a valid file of the right length
        part.insert(0, m21.note.Rest(quarterLength=float(T * resolution)))
    path = Path(path)
    with atomic_path(path) as tmp:
        part.write("midi", fp=str(tmp))
    return path


def plot_roll(roll, path, resolution=1.0, title="piano roll"):
    """Time across, pitch up, over the pitch range that sounds (with a margin)."""
    used = np.flatnonzero(roll.any(0))
    lo, hi = (int(used.min()) - 2, int(used.max()) + 3) if len(used) else (48, 84)
    fig, ax = figure(figsize=(max(6, len(roll) / 8), 4))
    ax.imshow(roll[:, lo:hi].T, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
              extent=(0, len(roll) * resolution, lo - 0.5, hi - 0.5))
    ticks = [p for p in range(lo, hi) if p % 12 == 0]
    ax.set_yticks(ticks, [note_name(p) for p in ticks])
    ax.set_xlabel("quarter notes")
    ax.set_title(title)
    return save_figure(fig, path)


def describe(roll, resolution=1.0):
    """One line per frame: its time and the notes that sound."""
    return [f"t={t * resolution:5.1f}  " + (" ".join(note_name(int(p)) for p in np.flatnonzero(f)) or "(rest)")
            for t, f in enumerate(roll)]
