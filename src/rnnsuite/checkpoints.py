"""Reading a checkpoint that `rnn-train` wrote: every check before anything is loaded, the model, and whether a
resumed run has the settings it was trained with."""
from .config import one_line
from .inputs import UserError, existing_file
from .registry import get_task, load_object


def read_checkpoint(path, task=None):
    """A checkpoint file of `task` (None: of whichever task it names) as its plain dict, loaded with
    `weights_only=True` (a pickle that would run code is refused unread). Every way it can be wrong is one
    `UserError` naming the file: missing, empty, truncated, not a checkpoint, not this suite's, of an older format,
    of another task, or naming a model class outside the task's own package (checked before anything is imported)."""
    import pickle

    import torch

    from .training.base import CHECKPOINT_FORMAT
    if not path:
        command = f"rnn-train task={task}" if task else "rnn-train"
        raise UserError(f"no checkpoint given: pass ckpt=PATH (a .ckpt written by `{command}`)")
    p = existing_file(path, "checkpoint")
    if p.stat().st_size == 0:
        raise UserError(f"checkpoint {path} is an empty file (0 bytes)")
    try:
        raw = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" in str(e):  # a pickled object that is not plain data: it could run code
            raise UserError(f"checkpoint {path} holds Python objects other than weights and plain data; refused "
                            "unread (it could run code)") from None
        raise UserError(f"cannot read checkpoint {path} (truncated, or not a PyTorch checkpoint)") from None
    except Exception as e:  # a truncated or foreign file: say so in one line
        raise UserError(f"cannot read checkpoint {path} (truncated, or not a PyTorch checkpoint): "
                        f"{type(e).__name__}: {one_line(e)[:200]}") from None
    info = raw.get("rnnsuite") if isinstance(raw, dict) else None
    if not isinstance(info, dict) or "task" not in info:
        raise UserError(f"{path} is not an rnnsuite checkpoint (no task tag): use a .ckpt written by `rnn-train`")
    if info.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path} was written by an older rnnsuite (checkpoint format {info.get('format', 1)}, "
                        f"this version reads {CHECKPOINT_FORMAT}); retrain it with `rnn-train task={info['task']}`")
    task = task or info["task"]
    if info["task"] != task:
        raise UserError(f"checkpoint {path} is from task {info['task']!r}, not {task!r}; "
                        f"use task={info['task']} or a {task} checkpoint")
    package = get_task(task).package
    cls = str(info.get("class", ""))
    if not package or not cls.startswith(package + "."):
        raise UserError(f"checkpoint {path} names the model class {cls!r}, which is not in the {task} task's package "
                        f"{package!r}; refused without importing it")
    return raw


def load_checkpoint(path, task=None, map_location="cpu"):
    """A task model from a checkpoint (`read_checkpoint`'s checks first, weights_only throughout), in eval mode."""
    from .training import TaskModule
    info = read_checkpoint(path, task)["rnnsuite"]
    task = info["task"]
    try:
        cls = load_object(info["class"])
    except (ImportError, AttributeError):
        raise UserError(f"{path} was written by a model class this version does not have ({info['class']}); "
                        f"retrain it with `rnn-train task={task}`") from None
    if not (isinstance(cls, type) and issubclass(cls, TaskModule)):
        raise UserError(f"checkpoint {path} names {info['class']}, which is not a model class")
    model = cls.load_from_checkpoint(path, map_location=map_location, weights_only=True)
    model.eval()
    return model


def check_resume(saved, model, dims):
    """`resume=`: the checkpoint's model must have this run's settings (the optimiser's and the monitor's may
    change). `saved` is the checkpoint read by `read_checkpoint`; `dims` what the model learnt from the data."""
    hparams = saved.get("hyper_parameters") or {}
    for key, value in model.hparams.items():
        if key in ("optim", "monitor") or key not in hparams or hparams[key] == value:
            continue
        name = f"the data's {key}" if key in dims else (key if key == "cell" else f"model.{key}")
        raise UserError(f"the resume checkpoint was trained with {name}={hparams[key]!r}, this run has {value!r}: "
                        "resume with the settings it was trained with")
