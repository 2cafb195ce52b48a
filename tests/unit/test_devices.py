"""The GPU path, checked without a GPU: on the `meta` device (shapes, no data) every task's training step runs
with the model and batch moved by Lightning's own batch transfer. A tensor made on the CPU inside the step
would meet a meta tensor and fail; a sync (`.item()`, `.cpu()`, `int(tensor)`) cannot read a meta tensor and
fails too. The step backend is used because packing (the fused backend with lengths) copies the lengths to the
CPU by design, the one allowed copy. torchmetrics' own kernels (bincount, masking) have no meta version: the
metrics only record what they are given, which must be on the model's device."""
import os

import pytest
import torch
from torchmetrics import Metric

from rnnsuite.run import build
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


@pytest.mark.parametrize("gpus, preset, expected", [(0, None, ""), (1, None, None), (0, "0", "0")])
def test_absent_gpus_are_hidden_only_where_there_are_none(gpus, preset, expected, monkeypatch):
    from rnnsuite.run import hide_absent_gpus
    if preset is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", preset)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    hide_absent_gpus()
    assert os.environ.get("CUDA_VISIBLE_DEVICES") == expected


@pytest.mark.skipif(torch.cuda.device_count() > 0 or not torch.cuda._is_compiled(),
                    reason="a CUDA build of torch on a machine without a GPU")
def test_with_no_gpu_an_optimizer_step_does_not_look_for_a_driver(monkeypatch):
    """Lightning's NVML-based CUDA check dlopens the NVIDIA library on every AdamW step where there is none."""
    import ctypes

    from rnnsuite.run import hide_absent_gpus
    monkeypatch.setenv("PYTORCH_NVML_BASED_CUDA_CHECK", "1")  # what importing Lightning sets
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    opened = []
    real = ctypes.CDLL

    def spy(name, *args, **kw):
        opened.append(name)
        return real(name, *args, **kw)
    monkeypatch.setattr(ctypes, "CDLL", spy)
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.AdamW([p])

    def step():
        p.grad = torch.ones(3)
        opt.step()
    step()
    assert any("nvidia-ml" in str(n) for n in opened)  # the cost being removed: a dlopen per step
    hide_absent_gpus()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
    opened.clear()
    step()
    step()
    assert opened == []
