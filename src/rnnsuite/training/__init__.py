"""The shared LightningModule base and run helpers."""
from .base import TaskModule

__all__ = ["TaskModule"]
