"""One package per application. Each has data.py (DataModule), model.py (LightningModule), predict.py."""
