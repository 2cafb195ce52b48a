"""Search spaces in Hydra's override grammar, as Optuna distributions.

    optim.lr=tag(log, interval(1e-4, 1e-2))    -> FloatDistribution(1e-4, 1e-2, log=True)
    model.dropout=interval(0.0, 0.5)           -> FloatDistribution(0.0, 0.5)
    model.num_layers=tag(int, interval(1, 3))  -> IntDistribution(1, 3)
    model.num_layers=range(1, 4)               -> IntDistribution(1, 3)   (stop excluded, as in Python)
    model.hidden_size=choice(64, 128, 256)     -> CategoricalDistribution([64, 128, 256]); also 64,128,256
    trainer.max_epochs=4                       -> not searched: passed to every trial as it is
"""
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, RangeSweep
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from .. import config


def _scalar(text):
    """'64' -> 64, '1e-3' -> 0.001, 'true' -> True, 'null' -> None, 'adamw' -> 'adamw': what a choice stands for."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "null": None}.get(text.lower(), text)


def distribution(override):
    """The Optuna distribution of one parsed sweep override."""
    key = override.get_key_element()
    value = override.value()
    tags = getattr(value, "tags", set()) or set()
    if override.is_choice_sweep():
        return CategoricalDistribution([_scalar(s) for s in override.sweep_string_iterator()])
    if isinstance(value, RangeSweep):
        if not all(isinstance(v, int) for v in (value.start, value.stop, value.step)):
            raise ValueError(f"{key}: range() needs integers; use interval() for floats")
        last = value.stop - 1 - (value.stop - 1 - value.start) % value.step
        if value.step <= 0 or last < value.start:
            raise ValueError(f"{key}: empty range({value.start}, {value.stop}, {value.step})")
        return IntDistribution(value.start, last, log="log" in tags, step=value.step)
    if isinstance(value, IntervalSweep):
        if value.start >= value.end:
            raise ValueError(f"{key}: interval({value.start}, {value.end}) is empty")
        if "int" in tags:
            return IntDistribution(int(value.start), int(value.end), log="log" in tags)
        return FloatDistribution(float(value.start), float(value.end), log="log" in tags)
    raise ValueError(f"{key}: sweep type {override.value_type.name} is not supported; "
                     f"use choice(), range() or interval()")


def parse(overrides, config_loader=None):
    """['optim.lr=tag(log, interval(...))', 'trainer.max_epochs=4', ...] -> (fixed, space):
    `fixed` are the plain overrides every trial gets, `space` maps each searched key to its distribution.
    A later override of a key replaces an earlier one (the command line wins over the config's space)."""
    parsed = OverridesParser.create(config_loader=config_loader).parse_overrides(list(overrides))
    last = {ov.get_key_element(): ov for ov in parsed}
    fixed = [ov.input_line for ov in last.values() if not ov.is_sweep_override()]
    space = {key: distribution(ov) for key, ov in last.items() if ov.is_sweep_override()}
    return fixed, space


def override(key, value):
    """One trial's value as a Hydra override string."""
    return config.override(key, value)
