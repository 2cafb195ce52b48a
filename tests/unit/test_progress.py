"""The progress bar every run gets: fed at most `refresh_rate` times a second, and always with the last batch."""
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import RichProgressBar

from rnnsuite.training import callbacks
from rnnsuite.training.callbacks import ProgressBar


def test_updates_are_passed_on_at_most_refresh_rate_times_a_second_and_the_last_always(monkeypatch):
    seen = []
    monkeypatch.setattr(RichProgressBar, "on_train_batch_end", lambda self, t, m, o, b, i: seen.append(i))
    monkeypatch.setattr(ProgressBar, "total_train_batches", property(lambda self: 100))
    clock = [0.0]
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: clock[0])
    bar = ProgressBar(refresh_rate=8)
    for i in range(100):  # 64 batches a second: every 8th is passed on, and the epoch's last
        clock[0] = i / 64
        bar.on_train_batch_end(None, None, None, None, i)
    assert seen == list(range(0, 100, 8)) + [99]


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, i):
        return self.layer(batch).pow(2).mean()

    def validation_step(self, batch, i):
        self.log("val/loss", self.layer(batch).pow(2).mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_a_run_ends_with_the_bars_full(tmp_path):
    """Many fast batches, most updates skipped, with validation in between: the training bar still ends at
    its batch count."""
    bar = ProgressBar()
    data = torch.utils.data.DataLoader(torch.randn(300, 4), batch_size=2)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_model_summary=False,
                         callbacks=[bar], default_root_dir=tmp_path, num_sanity_val_steps=0)
    ends = {}
    stop = bar._stop_progress

    def record_then_stop():  # the bars' counts just before the display is torn down
        if bar.progress is not None:
            ends.update({t.description: (t.completed, t.total) for t in bar.progress.tasks})
        stop()
    bar._stop_progress = record_then_stop
    trainer.fit(Tiny(), data, data)
    train = [v for k, v in ends.items() if "Epoch" in k]
    assert train and train[0] == (150, 150), ends
