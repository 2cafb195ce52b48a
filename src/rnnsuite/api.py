"""The Python API: what `rnn-train`, `rnn-eval` and `rnn-predict` do, from Python (a notebook, a script).

    import rnnsuite
    run = rnnsuite.train("sentiment", "trainer.max_epochs=2", cell="gru")
    run.results["test"]["acc"], run.dir, run.checkpoint
    model = rnnsuite.load(run.checkpoint)
    model.predict(["a moving film", "a dull script"])   # [("fresh", 0.91), ("rotten", 0.87)]
    rnnsuite.evaluate(run.checkpoint)                    # {"loss": ..., "acc": ..., ...}

Options are the command line's Hydra overrides: strings as on the command line ("cell=gru",
"trainer.max_epochs=2", "+model.foo=1", "~logger.wandb") and keyword arguments (cell="gru", seed=1; a dotted key
as **{"trainer.max_epochs": 2}), the keywords after the strings. A run is the one the console script would make
with the same overrides: the same config, code and run folder, so the same results. A mistake the user can fix
raises `UserError`, whose message is the line the console script prints after `error:`.
"""
import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .inputs import UserError

__all__ = ["Run", "Predictor", "UserError", "train", "load", "evaluate"]


@dataclass(frozen=True)
class Run:
    """A finished `rnn-train` run: its folder and what its results.json holds."""
    dir: Path
    results: dict

    @classmethod
    def open(cls, dir):
        """The run in folder `dir` (written by `train` or by `rnn-train`)."""
        path = Path(dir) / "results.json"
        if not path.is_file():
            raise UserError(f"{dir} is not a finished run folder (it has no results.json)")
        return cls(Path(dir), json.loads(path.read_text()))

    @property
    def checkpoint(self):
        """The best checkpoint, the one the run was tested with (None when the run kept no checkpoint)."""
        best = self.results.get("best_checkpoint")
        return Path(best) if best else None


def train(task, *overrides, dir=None, **options):
    """Train `task` as `rnn-train task=TASK OVERRIDES...` does, in this process; returns the `Run`.

    `dir`: the run folder (default outputs/TASK/<date>_<time>, as rnn-train's)."""
    from . import run
    from .config import compose, override
    with user_errors():
        args = _overrides([f"task={task}", *overrides], options)
        run_dir = _run_dir(dir, "outputs", str(task))
        run.train(compose("train", [override("paths.output_dir", str(run_dir)), *args]))
    return Run.open(run_dir)


def evaluate(ckpt, *overrides, dir=None, **options):
    """Test a checkpoint as `rnn-eval task=ITS_TASK ckpt=CKPT OVERRIDES...` does (on the data it was trained
    with; `data.KEY=VALUE` changes one key of it); returns its test metrics, e.g. {"loss": 0.61, "acc": 0.70}.

    `dir`: the folder of results.json and the plots (default outputs/eval/<date>_<time>, as rnn-eval's)."""
    from . import run
    from .checkpoints import read_checkpoint
    from .config import compose, override
    with user_errors():
        task = read_checkpoint(ckpt)["rnnsuite"]["task"]
        args = _overrides([f"task={task}", override("ckpt", str(ckpt)), *overrides], options)
        run_dir = _run_dir(dir, "outputs", "eval")
        results = run.evaluate(compose("eval", [override("paths.output_dir", str(run_dir)), *args]), args)
    return results["test"]


def load(ckpt, device=None):
    """The model a checkpoint holds, as a `Predictor` of its task (read with `weights_only`, after every check
    `rnn-predict` makes). `device`: "cpu" or "cuda" (default: cuda when there is one)."""
    import torch

    from .checkpoints import load_checkpoint
    from .run import setup_torch
    with user_errors():
        setup_torch()
        model = load_checkpoint(ckpt, map_location=device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return Predictor(model)


class Predictor:
    """A trained model, asked the way its task answers (each method is its task's `rnn-predict`, in Python):

    - sentiment, translation: `predict(texts)`
    - forecasting: `forecast(df)`
    - charlm: `sample(prime, length)`
    - captioning: `caption(images)`

    `model` is the task's LightningModule (in eval mode), `task` its task's name."""

    # method -> the function of the task's predict module that answers it, called as function(model, ...)
    ANSWERS = {"predict": "predict_texts", "forecast": "forecast", "sample": "sample", "caption": "caption"}

    def __init__(self, model):
        self.model, self.task = model, model.task_name

    def __repr__(self):
        return f"Predictor(task={self.task!r}, model={type(self.model).__name__})"

    def predict(self, texts, **options):
        """One answer per text: (label, probability) for sentiment, the translation for translation (options
        beam_size=N, too_long="truncate"). One text (a string) gets one answer."""
        from .inputs import check_texts
        one = isinstance(texts, str)
        with user_errors():
            answers = self._answer("predict", check_texts([texts] if one else texts), **options)
        return answers[0] if one else answers

    def forecast(self, df, **options):
        """The next `horizon` steps after the last row of `df` with a target value, as a DataFrame (time, the
        target's median and quantiles). `df` has the training columns; known-in-future covariates need rows for
        the steps to forecast, with the target empty (options fill_na=, fill_gaps=: "ffill" or "interpolate")."""
        with user_errors():
            return self._answer("forecast", df, **options)

    def sample(self, prime="", length=500, **options):
        """`prime` and `length` characters generated after it (options temperature=1.0, top_k=None, seed=0)."""
        with user_errors():
            return self._answer("sample", prime, length, **options)

    def caption(self, images, **options):
        """One caption per image file (an image file, a folder of images, or a list of files; option
        beam_size=N)."""
        with user_errors():
            return self._answer("caption", images, **options)

    def _answer(self, method, *args, **options):
        import importlib

        import torch

        from .registry import get_task
        entry = get_task(self.task).predict
        module = importlib.import_module(entry.partition(":")[0]) if entry else None
        answer = getattr(module, self.ANSWERS[method], None)
        if answer is None:
            offered = [f".{m}()" for m, name in self.ANSWERS.items() if hasattr(module, name)]
            raise UserError(f"a {self.task} model has no .{method}(); "
                            + (f"ask it with {' or '.join(offered)}" if offered
                               else f"use `rnn-predict task={self.task}`"))
        with torch.no_grad():
            return answer(self.model, *args, **options)


@contextlib.contextmanager
def user_errors():
    """A mistake the user can fix, raised inside, becomes one `UserError` whose message is the line the console
    scripts print after `error:`; anything else (a bug) goes through unchanged, and so does every error with
    RNNSUITE_TRACEBACK=1."""
    from hydra.errors import ConfigCompositionException, OverrideParseException

    from .config import hydra_error_line, one_line, user_error
    try:
        yield
    except (ConfigCompositionException, OverrideParseException) as e:  # Hydra could not compose the overrides
        if os.environ.get("RNNSUITE_TRACEBACK"):
            raise
        raise UserError(hydra_error_line(e)) from None
    except Exception as e:
        cause = user_error(e)
        if cause is None or os.environ.get("RNNSUITE_TRACEBACK"):
            raise
        raise UserError(one_line(cause)) from None


def _overrides(args, options):
    """Override strings, then the keyword options as overrides, with deprecated names renamed (as the console
    scripts do); the hydra.* options are the console scripts' own."""
    from .config import override, rename_deprecated
    bad = [a for a in args if not isinstance(a, str)]
    if bad:
        raise UserError(f"an override is a string such as 'cell=gru', got {bad[0]!r}")
    args = [*args, *(override(k, v) for k, v in options.items())]
    hydra = [a for a in args if a.lstrip("+~").startswith(("hydra.", "hydra/", "hydra="))]
    if hydra:
        raise UserError(f"{hydra[0]}: hydra.* options belong to the console scripts; in Python the run folder is "
                        "dir=PATH")
    return rename_deprecated(args)


def _run_dir(dir, *default):
    """`dir`, else the console script's default folder under the working directory, as an absolute path."""
    path = Path(dir) if dir is not None else Path(*default, time.strftime("%Y-%m-%d_%H-%M-%S"))
    return path.resolve()
