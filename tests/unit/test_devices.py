"""The GPU path, checked without a GPU: on the `meta` device (shapes, no data) every task's training step runs
with the model and batch moved by Lightning's own batch transfer. A tensor made on the CPU inside the step
would meet a meta tensor and fail; a sync (`.item()`, `.cpu()`, `int(tensor)`) cannot read a meta tensor and
fails too. The step backend is used because packing (the fused backend with lengths) copies the lengths to the
CPU by design, the one allowed copy. torchmetrics' own kernels (bincount, masking) have no meta version: the
metrics only record what they are given, which must be on the model's device."""
import pytest
import torch
from torchmetrics import Metric

from rnnsuite.cli.train import build
from rnnsuite.registry import all_tasks, get_task
from tests.conftest import compose


@pytest.mark.parametrize("task", list(all_tasks()))
def test_model_and_batch_move_together(task, tmp_path, data_dir):
    cfg = compose(overrides=[f"task={task}", *get_task(task).fixture, "model.hidden_size=8", "cell.backend=step"],
                  output_dir=str(tmp_path))
    dm, model = build(cfg)
    batch = next(iter(dm.train_dataloader()))
    meta = torch.device("meta")
    model.to(meta)
    given = []
    for m in model.modules():
        if isinstance(m, Metric):
            m.update = lambda *args, **kw: given.extend(a for a in [*args, *kw.values()] if torch.is_tensor(a))
    loss = model.training_step(model.transfer_batch_to_device(batch, meta, 0), 0)
    assert loss.device == meta and loss.dim() == 0
    assert {p.device for p in model.parameters()} == {meta}
    assert {t.device for t in given} <= {meta}
