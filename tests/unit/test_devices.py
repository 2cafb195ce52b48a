"""The GPU path, checked without a GPU: on the `meta` device (shapes, no data) every task's training step runs
with the model and batch moved by Lightning's own batch transfer. A tensor made on the CPU inside the step
would meet a meta tensor and fail; a sync (`.item()`, `.cpu()`, `int(tensor)`) cannot read a meta tensor and
fails too. The step backend is used because packing (the fused backend with lengths) copies the lengths to the
CPU by design, the one allowed copy."""
import pytest
import torch

from rnnsuite.bench import FIXTURE, TASKS
from rnnsuite.cli.train import build
from tests.conftest import compose


@pytest.mark.parametrize("task", TASKS)
def test_model_and_batch_move_together(task, tmp_path, data_dir):
    data = [f"data={FIXTURE[task]}"] if FIXTURE[task] else ["data.n_train=64", "data.n_val=16", "data.n_test=16"]
    cfg = compose(overrides=[f"task={task}", "model.hidden_size=8", "cell.backend=step", *data],
                  output_dir=str(tmp_path))
    dm, model = build(cfg)
    batch = next(iter(dm.train_dataloader()))
    meta = torch.device("meta")
    model.to(meta)
    loss = model.training_step(model.transfer_batch_to_device(batch, meta, 0), 0)
    assert loss.device == meta and loss.dim() == 0
    assert {p.device for p in model.parameters()} == {meta}
