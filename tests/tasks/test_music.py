"""music: piano rolls, the NLL-per-time-step normalisation, generation to MIDI + PNG; a tiny run on the fixture."""
import json

import numpy as np
import pytest
import torch

from rnnsuite.data.sources.chorales import music21, piano_roll
from rnnsuite.tasks.music.data import MusicDataModule, collate_rolls, nll_independent
from rnnsuite.tasks.music.model import MusicRNN
from rnnsuite.tasks.music.render import write_midi

# with pytest-xdist (--dist loadgroup): one worker takes this file and the contract's music tests, so they
# share the session's fixture runs of music
pytestmark = pytest.mark.xdist_group("music")

CELL = {"type": "gru", "backend": "fused", "init": "default"}


def test_piano_roll_samples_each_quarter_note():
    m21 = music21()
    s = m21.stream.Score()
    part = m21.stream.Part()
    part.insert(0, m21.note.Note(60, quarterLength=2))           # frames 0, 1
    part.insert(2, m21.chord.Chord([64, 67], quarterLength=1))   # frame 2
    part.insert(3.5, m21.note.Note(62, quarterLength=1.5))       # sounds at t = 4 only
    s.insert(0, part)
    roll = piano_roll(s, 1.0)
    assert roll.shape == (5, 128)
    assert [np.flatnonzero(f).tolist() for f in roll] == [[60], [60], [64, 67], [], [62]]
    assert piano_roll(s, 0.5).shape == (10, 128)


def midi_notes(path):
    """(pitch, start, end) in quarter notes, read from the file's raw events (music21's score parser
    re-quantises chords and can shift them)."""
    mf = music21().midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    notes, on = [], {}
    for track in mf.tracks:
        t = 0
        for e in track.events:
            if e.isDeltaTime():
                t += e.time
            elif e.type.name == "NOTE_ON" and e.velocity > 0:
                on[e.pitch] = t
            elif e.type.name in ("NOTE_OFF", "NOTE_ON"):
                notes.append((e.pitch, on.pop(e.pitch) / mf.ticksPerQuarterNote, t / mf.ticksPerQuarterNote))
    return sorted(notes, key=lambda n: (n[1], n[0]))


def test_midi_round_trip_merges_held_notes(tmp_path):
    roll = np.zeros((6, 128), dtype=bool)
    roll[0:3, 60] = True
    roll[3:6, 64] = True
    path = write_midi(roll, tmp_path / "x.mid")
    assert midi_notes(path) == [(60, 0.0, 3.0), (64, 3.0, 6.0)]


def test_inputs_are_the_previous_frame_after_a_silent_start():
    a, b = torch.eye(3)[:2], torch.ones(3, 3)
    batch = collate_rolls([a, b])
    assert batch["lengths"].tolist() == [2, 3]
    assert (batch["inputs"][:, 0] == 0).all()
    torch.testing.assert_close(batch["inputs"][1, 1:], b[:2])
    torch.testing.assert_close(batch["targets"][0, :2], a)


def test_nll_is_summed_over_pitches_and_averaged_over_real_frames():
    torch.manual_seed(0)
    m = MusicRNN(5, CELL, hidden_size=8, dropout=0.0).eval()
    rolls = [torch.bernoulli(torch.full((n, 5), 0.3)) for n in (4, 7)]
    batch = collate_rolls(rolls)
    logged = {}
    m.log_split = lambda split, metrics, batch_size=None, prog_bar=True: logged.update(metrics, n=batch_size)
    m._step(batch, "test")
    total, frames = 0.0, 0
    for r in rolls:  # one chorale at a time, no padding anywhere
        x = torch.cat([torch.zeros(1, 5), r[:-1]])[None]
        with torch.no_grad():
            p = torch.sigmoid(m(x))[0]
        total += float(-(r * p.log() + (1 - r) * (1 - p).log()).sum())
        frames += len(r)
    assert logged["n"] == frames == 11
    assert float(logged["nll"].detach()) == pytest.approx(total / frames, rel=1e-5)


def test_independent_pitch_baseline_matches_hand_computation():
    train = [np.array([[1, 0], [1, 1]], dtype=bool)]
    test = [np.array([[1, 0]], dtype=bool)]
    p = np.array([1.0, 0.5])
    p = np.clip(p, 1e-3, 1 - 1e-3)
    assert nll_independent(train, test) == pytest.approx(-(np.log(p[0]) + np.log(1 - p[1])))


def test_fixture_split_is_by_piece_and_seeded():
    dm, dm2 = MusicDataModule(source="fixture"), MusicDataModule(source="fixture")
    dm.setup()
    dm2.setup()
    ids = {k: set(v["ids"]) for k, v in dm.splits.items()}
    assert not (ids["train"] & ids["test"] or ids["train"] & ids["val"] or ids["val"] & ids["test"])
    assert ids == {k: set(v["ids"]) for k, v in dm2.splits.items()}
    assert dm.model_dims()["num_pitches"] == dm.state()["high"] - dm.state()["low"] + 1


def test_generate_is_stepwise_and_validates():
    m = MusicRNN(6, CELL, hidden_size=8)
    roll = m.generate(10, seed=0)
    assert roll.shape == (10, 6) and roll.dtype == bool
    assert (roll == m.generate(10, seed=0)).all()
    with pytest.raises(ValueError, match="length"):
        m.generate(0)
    with pytest.raises(ValueError, match="temperature"):
        m.generate(4, temperature=-1)


def test_generation_continues_a_prime_from_the_state_it_reached(monkeypatch):
    """The first sampled frame is drawn from the fused forward's last output over [start frame; prime]: the
    prime is read step by step into the state (and without a prime the probabilities differ)."""
    torch.manual_seed(0)
    m = MusicRNN(6, CELL, hidden_size=8, dropout=0.0).eval()
    prime = (torch.rand(5, 6) < 0.4).numpy()
    with torch.no_grad():
        with_prime = m(torch.cat([torch.zeros(1, 6), torch.as_tensor(prime, dtype=torch.float32)])[None])[0, -1]
        without = m(torch.zeros(1, 1, 6))[0, -1]
    drawn = []
    monkeypatch.setattr(torch, "bernoulli", lambda p, generator=None: (drawn.append(p.clone()), (p > 0.5).float())[1])
    m.generate(1, 0.7, seed=3, prime=prime)
    torch.testing.assert_close(drawn[0][0], torch.sigmoid(with_prime / 0.7))
    assert not torch.allclose(drawn[0][0], torch.sigmoid(without / 0.7))


def test_learns_the_fixture_and_continues_a_midi_file(fixture_run, tmp_path, predict_here):
    run = fixture_run("music", "cell=gru", "trainer.max_epochs=15")
    res = json.loads((run / "results.json").read_text())
    assert res["test"]["nll"] < res["baselines"]["independent_pitches"]["nll"]  # uses the previous frame
    assert (run / "sample.mid").is_file() and (run / "sample_roll.png").is_file()
    ckpt = res["best_checkpoint"]
    out = tmp_path / "gen" / "piece"
    code, _, err = predict_here("task=music", f"ckpt={ckpt}", "length=24", f"out={out}")
    assert code == 0, err
    assert out.with_suffix(".mid").stat().st_size > 0 and out.with_suffix(".png").stat().st_size > 0
    notes = midi_notes(out.with_suffix(".mid"))
    assert len(notes) > 0 and max(end for _, _, end in notes) <= 24
    # continuing a MIDI file: the file's notes come first, then `length` new steps
    roll = np.zeros((6, 128), dtype=bool)
    roll[0:4, 60] = roll[0:6, 67] = True
    start = write_midi(roll, tmp_path / "start.mid")
    code, _, err = predict_here("task=music", f"ckpt={ckpt}", f"file={start}", "length=10", f"out={out}")
    assert code == 0, err
    notes = midi_notes(out.with_suffix(".mid"))
    assert {(p, s, min(e, 6.0)) for p, s, e in notes if s < 6} == {(60, 0.0, 4.0), (67, 0.0, 6.0)}
    assert max(end for _, _, end in notes) <= 16
    for args, msg in [(["length=0"], "length must be a positive"), ([f"file={tmp_path / 'no.mid'}"], "not found"),
                      ([f"file={tmp_path / 'gen'}"], "not found")]:
        code, _, err = predict_here("task=music", f"ckpt={ckpt}", *args)
        assert code == 2 and msg in err, err


def test_weight_noise_perturbs_the_step_and_leaves_the_clean_weights_to_the_optimiser():
    """Chung et al. 2014's weight noise: the loss and gradient of a training step are taken at noisy weights; after
    backward the weights are the clean ones again, bit for bit, so the optimiser updates those."""
    torch.manual_seed(0)
    m = MusicRNN(8, CELL, hidden_size=6, dropout=0.0, weight_noise=0.075)
    clean = [p.detach().clone() for p in m.parameters()]
    x = (torch.rand(2, 5, 8) > 0.5).float()
    expected = m(x).detach()
    m.on_train_batch_start(None, 0)
    noisy = m(x)
    assert (noisy - expected).abs().max() > 1e-3  # the step sees other weights
    noisy.sum().backward()
    grads = [p.grad.clone() for p in m.parameters()]
    m.on_after_backward()
    assert all(torch.equal(p, c) for p, c in zip(m.parameters(), clean))
    m.zero_grad()
    m(x).sum().backward()  # the clean weights' gradient differs from the one the step took
    assert any(not torch.allclose(g, p.grad) for g, p in zip(grads, m.parameters()))
    m.on_train_batch_end(None, None, 0)  # nothing left to restore: a no-op
    assert all(torch.equal(p, c) for p, c in zip(m.parameters(), clean))
