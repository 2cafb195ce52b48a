"""Search spaces in Hydra's override grammar -> Optuna distributions, and trial values back to overrides."""
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from rnnsuite.sweep.space import override, parse


def test_each_sweep_form_becomes_its_distribution():
    fixed, space = parse(["optim.lr=tag(log, interval(0.0001, 0.01))", "model.dropout=interval(0, 0.5)",
                          "model.num_layers=range(1, 4)", "data.batch_size=range(16, 65, 16)",
                          "model.hidden_size=choice(64, 128)", "optim.name=adam,adamw",
                          "model.embed_dim=tag(int, interval(8, 32))", "trainer.max_epochs=3"])
    assert fixed == ["trainer.max_epochs=3"]
    assert space["optim.lr"] == FloatDistribution(1e-4, 1e-2, log=True)
    assert space["model.dropout"] == FloatDistribution(0.0, 0.5)
    assert space["model.num_layers"] == IntDistribution(1, 3)               # Python's range: 4 excluded
    assert space["data.batch_size"] == IntDistribution(16, 64, step=16)     # 16, 32, 48, 64
    assert space["model.hidden_size"] == CategoricalDistribution([64, 128])  # numbers, not strings
    assert space["optim.name"] == CategoricalDistribution(["adam", "adamw"])
    assert space["model.embed_dim"] == IntDistribution(8, 32)


def test_a_later_override_of_a_key_replaces_the_earlier_one():
    fixed, space = parse(["model.hidden_size=choice(64, 128)", "optim.lr=interval(0.001, 0.01)",
                          "model.hidden_size=32"])
    assert fixed == ["model.hidden_size=32"] and set(space) == {"optim.lr"}


@pytest.mark.parametrize("bad", ["model.dropout=interval(0.5, 0.1)", "model.num_layers=range(3, 1)",
                                 "model.num_layers=range(1.0, 3.0)"])
def test_empty_or_float_ranges_are_refused(bad):
    with pytest.raises(ValueError):
        parse([bad])


@pytest.mark.parametrize("value", [0.00123, 1e-30, 128, True, None, "adamw", "two words, a comma", "it's"])
def test_a_value_survives_the_round_trip_through_hydras_grammar(value):
    parsed = OverridesParser.create().parse_override(override("a.b", value))
    assert parsed.key_or_group == "a.b" and parsed.value() == value
