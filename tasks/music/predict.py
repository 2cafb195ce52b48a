"""`rnn-predict task=music ckpt=... length=64 [temperature=1.0 seed=0 out=PATH]`: a generated chorale fragment
as a MIDI file and a piano-roll PNG (out=PATH gives the file stem; default: the predict run folder)."""
from pathlib import Path

from rnnsuite.inputs import generation_args

from .render import describe, plot_roll, write_midi


def output_stem(cfg):
    if cfg.out:
        return Path(cfg.out).with_suffix("")
    try:
        from hydra.core.hydra_config import HydraConfig
        return Path(HydraConfig.get().runtime.output_dir) / "chorale"
    except Exception:  # called outside a Hydra run
        return Path("chorale")


def predict(model, cfg):
    length, temperature = generation_args(cfg.length, cfg.temperature, "time steps")
    roll = model.full_roll(model.generate(length, temperature, cfg.seed))
    res = model.hparams.data_state["resolution"]
    stem = output_stem(cfg)
    midi = write_midi(roll, stem.with_suffix(".mid"), res)
    png = plot_roll(roll, stem.with_suffix(".png"), res, f"generated chorale fragment ({length} steps)")
    print("\n".join(describe(roll[:16], res)) + ("\n…" if length > 16 else ""))
    print(f"MIDI: {midi}\npiano roll: {png}")
    return {"midi": str(midi), "png": str(png)}
