"""The task registry: every task, built in or from another distribution, is an entry point in the group
`rnnsuite.tasks` whose value is a `Task`.

A distribution adds a task by declaring, in its pyproject.toml,

    [project.entry-points."rnnsuite.tasks"]
    mytask = "mypackage:TASK"

where `TASK = Task(name="mytask", predict="mypackage.predict:predict", config="mypackage.conf", ...)` and
`mypackage/conf/task/mytask.yaml` composes the task (see docs/add_a_task.md). Hydra's search path gets
every registered config package (`hydra.searchpath` in conf/train.yaml, eval.yaml and predict.yaml), and the
task contract test (tests/test_task_contract.py) runs every registered task.
"""
import importlib
import warnings
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points

GROUP = "rnnsuite.tasks"
BUILTIN_CONFIG = "rnnsuite.conf"


@dataclass(frozen=True)
class Task:
    """What the suite needs to know about a task beyond its config.

    - `predict`: "module:function" behind `rnn-predict task=NAME`; called as `function(model, cfg)`. Its module
      may also hold the Python API's answers (rnnsuite.api.Predictor), each called with the model first:
      `predict_texts(model, texts, ...)`, `forecast(model, df, ...)`, `sample(model, prime, length, ...)`,
      `caption(model, images, ...)`.
    - `config`: the package holding `task/NAME.yaml` and the task's `data/` options (added to Hydra's
      search path when it is not the suite's own `rnnsuite.conf`).
    - `metrics`: the test metrics the task reports (results.json "test"), name -> meaning.
    - `fixture`: overrides that train it on small generated data, for tests and demos.
    - `predict_file` / `predict_args`: how the contract test asks it for predictions (see `PredictCase`).
    - `package`: filled in by the registry: the module its entry point names. A checkpoint of the task may only
      name a model class inside this package (checked before anything is imported).
    """
    name: str
    description: str
    predict: str | None = None
    metrics: dict = field(default_factory=dict)
    config: str = BUILTIN_CONFIG
    fixture: tuple = ()
    predict_file: "PredictCase | None" = None
    predict_args: "PredictCase | None" = None
    package: str = ""


@dataclass(frozen=True)
class PredictCase:
    """One call of `rnn-predict` for the contract test: `overrides` may name `{file}`, a file the test writes
    first (`file_text`, or `file_maker`: "module:function" called with the path). `same_as_file`: the answer
    must equal the file case's (the same input given the other way)."""
    overrides: tuple
    file_name: str = "input.txt"
    file_text: str | None = None
    file_maker: str | None = None
    same_as_file: bool = False


def load_object(path):
    """"package.module:name" (or "package.module.name") -> the object."""
    module, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def all_tasks():
    """{name: Task} for every registered task, sorted by name. An entry point whose package cannot be imported
    (a half-removed install) is left out with a warning, so one broken task does not stop the others."""
    found = {}
    for ep in entry_points(group=GROUP):
        try:
            task = ep.load()
        except ImportError as e:
            warnings.warn(f"task {ep.name!r} is registered ({ep.value}) but cannot be imported: {e}", stacklevel=2)
            continue
        if not isinstance(task, Task) or task.name != ep.name:
            raise TypeError(f"entry point {ep.name} = {ep.value} in group {GROUP} must be a "
                            f"rnnsuite.registry.Task named {ep.name!r}")
        found[ep.name] = replace(task, package=ep.module)
    return dict(sorted(found.items()))


def get_task(name):
    from .inputs import UserError
    tasks = all_tasks()
    if name not in tasks:
        raise UserError(f"unknown task {name!r}; registered: {', '.join(tasks)}")
    return tasks[name]


def config_packages():
    """The config packages of registered tasks other than the suite's own, for Hydra's search path."""
    return sorted({t.config for t in all_tasks().values()} - {BUILTIN_CONFIG})
