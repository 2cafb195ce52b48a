"""What a person hands to `rnn-predict` (texts, files, numbers), read and checked, and `UserError` for what they
can fix. Tasks import this module; the CLI turns a `UserError` into one `error: ...` line and exit code 2.
Warnings and notes go to stderr (`warn`, `note`), so that stdout holds only the answers."""
import sys
from pathlib import Path

MAX_LINE = 100_000       # characters in one input line (a text to classify or translate, a prime)
MAX_GENERATION = 100_000  # characters or time steps one generating call may produce


class UserError(ValueError):
    """A mistake the user can fix (a bad value, input or checkpoint): printed as one line, exit code 2."""


def warn(message):
    """A warning for the person at the terminal, on stderr (stdout keeps one answer per input)."""
    print(f"warning: {message}", file=sys.stderr)


def note(message):
    """Something the person should know (what was filled, converted, left out), on stderr."""
    print(f"note: {message}", file=sys.stderr)


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
    """Texts from `text=` (one) or `file=` (one per line, blank lines skipped); an empty input, or a line longer
    than `MAX_LINE` characters, is an error naming it."""
    if text is not None:
        items = [("text", str(text))]
        if not items[0][1].strip():
            raise UserError("empty text: give at least one word")
    elif file:
        items = [(f"{file} line {n}", t) for n, t in enumerate(read_text_file(file).splitlines(), 1) if t.strip()]
        if not items:
            raise UserError(f"{file} has no non-empty lines")
    else:
        raise UserError('give text="..." or file=PATH (one input per line)')
    return _within_limit(items)


def check_texts(texts):
    """Texts given in Python (a list of strings), checked like `read_texts`' input: none empty, none longer
    than `MAX_LINE` characters."""
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise UserError("give the texts as a list of strings")
    items = [(f"input {i}", t) for i, t in enumerate(texts, 1)]
    if not items:
        raise UserError("no texts given: give a list of at least one text")
    for where, t in items:
        if not t.strip():
            raise UserError(f"{where} is empty text: give at least one word")
    return _within_limit(items)


def _within_limit(items):
    for where, t in items:
        if len(t) > MAX_LINE:
            raise UserError(f"{where} is {len(t):,} characters long; the limit is {MAX_LINE:,} per input")
    return [t for _, t in items]


def refuse_unreadable(texts, tokenizer):
    """A `UserError` for the first text of which the model knows no token at all: its answer would say nothing
    about the text. (Some unknown tokens are fine; the tasks say how many.)"""
    for i, text in enumerate(texts, 1):
        if not tokenizer.readable(text):
            where = f"input {i} ({text[:40]!r})" if len(texts) > 1 else repr(text[:60])
            raise UserError(f"{where} has no word or character the model saw in training: nothing to read")


def generation_args(length, temperature, unit):
    """`length` and `temperature` of a generating call, checked: (int > 0, float > 0)."""
    try:
        length, temperature = int(length), float(temperature)
    except (TypeError, ValueError):
        raise UserError(f"length and temperature must be numbers, got {length!r} and {temperature!r}") from None
    if length <= 0:
        raise UserError(f"length must be a positive number of {unit}, got {length}")
    if length > MAX_GENERATION:
        raise UserError(f"length must be at most {MAX_GENERATION:,} {unit} per call, got {length:,}")
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
