"""Checkpoint weight averaging."""
import pytest
import torch

from rnnsuite.training import average_state_dicts


def test_average_state_dicts():
    a = {"w": torch.tensor([1.0, 3.0]), "n": torch.tensor(7)}
    b = {"w": torch.tensor([3.0, 5.0]), "n": torch.tensor(9)}
    avg = average_state_dicts([a, b])
    assert torch.equal(avg["w"], torch.tensor([2.0, 4.0])) and int(avg["n"]) == 7
    with pytest.raises(ValueError, match="not one model"):
        average_state_dicts([a, {"w": torch.zeros(3), "n": torch.tensor(1)}])
