"""One package per application, installed as `rnnsuite.tasks.NAME`. Each has data.py (DataModule), model.py
(LightningModule) and predict.py, and declares its `TASK` (a `rnnsuite.registry.Task`) in its __init__.py,
registered in the `rnnsuite.tasks` entry-point group. A task imports the library, never the CLI or another task."""
