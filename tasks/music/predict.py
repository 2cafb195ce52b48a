"""`rnn-predict task=music ckpt=... length=64 [temperature=1.0 seed=0 file=start.mid out=PATH]`: a generated
chorale fragment as a MIDI file and a piano-roll PNG (out=PATH gives the file stem; default: the predict run
folder). With file=, the fragment continues the given MIDI file (written out before the continuation)."""
from pathlib import Path

import numpy as np

from rnnsuite.inputs import UserError, existing_file, generation_args, note, output_path

from .render import describe, note_name, plot_roll, write_midi


def read_prime(path, model):
    """A MIDI (or MusicXML) file as frames over the model's pitch range, at its resolution; notes outside the
    range are left out with a note saying so."""
    from rnnsuite.data.sources.chorales import music21, piano_roll
    path = existing_file(path)
    try:
        score = music21().converter.parse(str(path))
    except Exception as e:  # music21 raises many kinds for a file it cannot read
        raise UserError(f"cannot read {path} as MIDI or MusicXML: {type(e).__name__}") from None
    st = model.data_state
    roll = piano_roll(score, st["resolution"])
    if not roll.any():
        raise UserError(f"{path} has no notes to continue")
    roll = roll[: np.flatnonzero(roll.any(1))[-1] + 1]  # continue from the last notes, not a closing rest
    outside = roll.copy()
    outside[:, st["low"]: st["high"] + 1] = False
    if outside.any():
        note(f"{int(outside.sum())} note frame(s) outside the model's range "
             f"{note_name(st['low'])}-{note_name(st['high'])} were left out")
    return roll[:, st["low"]: st["high"] + 1]


def predict(model, cfg):
    prime = read_prime(cfg.file, model) if cfg.get("file") else None
    length, temperature = generation_args(cfg.length, cfg.temperature, "time steps")
    new = model.generate(length, temperature, cfg.seed, prime=prime)
    roll = model.full_roll(new if prime is None else np.concatenate([prime, new]))
    res = model.data_state["resolution"]
    stem = output_path(cfg.out, "chorale").with_suffix("")
    midi = write_midi(roll, stem.with_suffix(".mid"), res)
    what = f"{length} steps" if prime is None else f"{len(prime)} steps of {Path(cfg.file).name} + {length} new"
    png = plot_roll(roll, stem.with_suffix(".png"), res, f"generated chorale fragment ({what})")
    shown = roll[len(prime) if prime is not None else 0:][:16]
    print("\n".join(describe(shown, res)) + ("\n…" if length > 16 else ""))
    print(f"MIDI: {midi}\npiano roll: {png}")
    return {"midi": str(midi), "png": str(png)}


def example_midi(path):
    """A short four-voice fragment in the fixture's style, as a MIDI file (the contract test's input)."""
    from .data import fixture_rolls
    return write_midi(fixture_rolls(1, seed=7)[0][:12], path)
