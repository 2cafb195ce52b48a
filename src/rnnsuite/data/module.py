"""`TaskDataModule`: what the CLI asks of every task's DataModule, beyond Lightning's own interface."""
import pytorch_lightning as pl
import torch


class TaskDataModule(pl.LightningDataModule):
    def __init__(self, batch_size=64, num_workers=0):
        super().__init__()
        self.batch_size, self.num_workers = batch_size, num_workers
        self._state = None

    def model_dims(self):
        """What the model must know about the data (vocabulary size, features, classes, horizon)."""
        return {}

    def state(self):
        """Plain, JSON-able data state (tokenizer, scalers): saved in the checkpoint for eval and predict."""
        return self._state

    def load_state(self, state):
        """Reuse a checkpoint's data state instead of fitting a new one on the train split."""
        self._state = state

    def baselines(self):
        """{name: {metric: value}} on exactly the test split the model is scored on."""
        return {}

    def loader(self, dataset, shuffle=False, collate_fn=None, batch_size=None):
        return torch.utils.data.DataLoader(dataset, batch_size=batch_size or self.batch_size, shuffle=shuffle,
                                           collate_fn=collate_fn, num_workers=self.num_workers,
                                           persistent_workers=self.num_workers > 0)
