"""What a person hands to `rnn-predict` (texts, files, numbers), read and checked, and `UserError` for what they
can fix. Tasks import this module; the CLI turns a `UserError` into one `error: ...` line and exit code 2."""
from pathlib import Path


class UserError(ValueError):
    """A mistake the user can fix (a bad value, input or checkpoint): printed as one line, exit code 2."""


def existing_file(path, what="input file"):
    """`path` as a Path, or a `UserError` when there is no such file."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    return path


def output_path(out, name):
    """Where a prediction writes a file: `out=` when given, else `name` in the predict run's folder (the
    working directory outside a Hydra run)."""
    if out:
        return Path(out)
    try:
        from hydra.core.hydra_config import HydraConfig
        return Path(HydraConfig.get().runtime.output_dir) / name
    except ValueError:  # HydraConfig is not set outside a Hydra run
        return Path(name)


def read_text_file(path):
    """A UTF-8 file's text; a missing or non-UTF-8 file is a `UserError` naming it."""
    path = existing_file(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_texts(text=None, file=None):
    """Texts from `text=` (one) or `file=` (one per line, blank lines skipped); an empty input is an error."""
    if text is not None:
        texts = [str(text)]
    elif file:
        texts = [t for t in read_text_file(file).splitlines() if t.strip()]
        if not texts:
            raise UserError(f"{file} has no non-empty lines")
    else:
        raise UserError('give text="..." or file=PATH (one input per line)')
    for i, t in enumerate(texts, 1):
        if not t.strip():
            raise UserError("empty text: give at least one word" if len(texts) == 1 else f"line {i} is empty")
    return texts


def generation_args(length, temperature, unit):
    """`length` and `temperature` of a generating call, checked: (int > 0, float > 0)."""
    try:
        length, temperature = int(length), float(temperature)
    except (TypeError, ValueError):
        raise UserError(f"length and temperature must be numbers, got {length!r} and {temperature!r}") from None
    if length <= 0:
        raise UserError(f"length must be a positive number of {unit}, got {length}")
    if temperature <= 0:
        raise UserError(f"temperature must be > 0 (lower is more conservative), got {temperature}")
    return length, temperature


def positive_int(value, name):
    """An integer >= 1 from a config value, or a `UserError` naming the option."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a whole number >= 1, got {value!r}") from None
    if n < 1:
        raise UserError(f"{name} must be >= 1, got {n}")
    return n
