"""The shared LightningModule base and run helpers."""
from .averaging import average_state_dicts
from .base import TaskModule

__all__ = ["TaskModule", "average_state_dicts"]
