"""The Hydra config tree: where it is, composing it in-process, the names it renamed and the ranges its options
must keep; and the one line a user reads for a mistake they can fix (a config Hydra cannot compose, a bad value)."""
import re
import sys

from omegaconf import OmegaConf

from .inputs import UserError
from .registry import config_packages

# The config tree ships inside the package (conf/ in the repository): found the same way from a checkout, an
# editable install or a wheel. Tasks of other distributions add their own config packages to the search path.
CONF = "pkg://rnnsuite.conf"
CONF_MODULE = "rnnsuite.conf"


def conf_root():
    """The config tree as a `Traversable` (a plain folder in a checkout or an unzipped install)."""
    from importlib.resources import files
    return files(CONF_MODULE)


def conf_options(group):
    """The options of a config group of the suite's own tree, e.g. conf_options("task")."""
    return sorted(p.name[:-5] for p in (conf_root() / group).iterdir() if p.name.endswith(".yaml"))


def register_resolvers():
    """The config's own interpolations and the project's Hydra sweepers; composing (here or in a console script)
    calls this first."""
    from hydra_plugins.rnnsuite_sweepers import register
    register()
    # hydra.searchpath of train/eval/predict.yaml: the config packages of tasks other distributions register
    if not OmegaConf.has_resolver("rnnsuite_task_configs"):
        OmegaConf.register_new_resolver("rnnsuite_task_configs",
                                        lambda: [f"pkg://{pkg}" for pkg in config_packages()])


def compose(config_name="train", overrides=()):
    """The config a console script would get for these command-line overrides, composed in this process (without
    Hydra's run folder: set paths.output_dir)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    register_resolvers()
    with initialize_config_module(CONF_MODULE, version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides))


def override(key, value):
    """A value as a Hydra override string, quoted where Hydra's grammar needs it ("key=value")."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
        if not re.fullmatch(r"[\w./:+-]+", text):  # spaces, commas, brackets: quote for Hydra's grammar
            text = "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return f"{key}={text}"


def plain(node):
    return OmegaConf.to_container(node, resolve=True) if node is not None else None


def hydra_error_line(e):
    """One line for an error Hydra raises before the job runs: an unknown config key, a config option that does
    not exist, an override it cannot parse."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    text = " ".join(lines)
    cause = one_line(e.__cause__) if e.__cause__ is not None else ""
    if key := re.search(r"Could not override '([^']+)'", text):
        if "not in struct" not in cause:
            return f"cannot set {key.group(1)}: {cause or lines[0]}"
        return (f"unknown config key {key.group(1)!r} (check its spelling; +{key.group(1)}=... adds a key, which "
                "the class it configures must then accept)")
    if missing := re.search(r"Could not find '([^']+)'", text):
        group = missing.group(1).rsplit("/", 1)[0]
        start = text.find(f"Available options in '{group}':")
        options = text[start:].split(":", 1)[1].split("Config search path")[0].split() if start >= 0 else []
        listed = f"; the {group} options are {', '.join(options)}" if options else ""
        return f"no config {missing.group(1)!r}{listed}"
    override = getattr(e, "override", None)
    head = lines[0] if lines else type(e).__name__
    if override:
        return f"cannot parse the override {override!r}: {head}"
    return f"{head} ({cause})" if cause else head


def one_line(e):
    """An exception as one line of text: its first non-empty line, or its type when it has no message."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0][:500] if lines else type(e).__name__


def user_error(e):
    """The error a user can fix behind `e` (also when Hydra's instantiate wraps it), or None for a bug."""
    from hydra.errors import InstantiationException

    from .data.fetch import DataError
    while isinstance(e, InstantiationException) and e.__cause__ is not None:
        cause = e.__cause__
        if isinstance(cause, TypeError) and "argument" in str(cause):
            # a config key the class does not take (+model.foo=1) or a required one missing
            key = re.search(r"full_key: (\S+)", str(e))
            return UserError(f"{key.group(1) if key else 'config'}: {one_line(cause)}")
        e = cause
    return e if isinstance(e, (UserError, DataError, FileNotFoundError, ValueError)) else None


# Renamed in 0.2.0 so that one idea has one name across tasks. The old names still work on the command line,
# with a warning, until the next release.
DEPRECATED = {
    "data.split_seed": ["data.seed"],
    "data.fixture_docs": ["data.fixture_size"],
    "data.fixture_days": ["data.fixture_size"],
    "model.enc_layers": ["model.num_layers"],
    "model.dec_layers": ["model.num_layers"],
    "model.length_alpha": ["model.length_penalty"],
    "model.teacher_forcing": ["model.teacher_forcing_start", "model.teacher_forcing_end"],
    "beam": ["beam_size"],
}


def rename_deprecated(args):
    """Command-line overrides with deprecated keys rewritten to the current names (a warning each)."""
    out = []
    for arg in args:
        m = re.fullmatch(r"([+~]*)([\w.]+)(=.*)?", arg, flags=re.S)
        if not m or m.group(2) not in DEPRECATED:
            out.append(arg)
            continue
        prefix, old, value = m.group(1), m.group(2), m.group(3) or ""
        new = DEPRECATED[old]
        print(f"warning: {old} is deprecated and goes in the next release; use {' and '.join(new)}",
              file=sys.stderr)
        out += [f"{prefix}{key}{value}" for key in new]
    return out


# Options checked before anything is built, wherever they appear under model. or data.: sizes and counts must be
# whole numbers >= 1, dropout rates and split fractions must lie in [0, 1).
POSITIVE = re.compile(r"(.*_size|.*_dim|num_layers|.*_len|lookback|horizon|k[12]|n_(train|val|test|refs)|season|"
                      r"head_hidden|.*_stride|max_.*|windows_per_epoch|fixture_size)")
FRACTION = re.compile(r"(.*dropout.*|.*_frac)")


def check_options(cfg, sections=("model", "data")):
    """A `UserError` naming the first option of `sections` outside its range."""
    for section in sections:
        node = cfg.get(section) or {}
        for key, value in node.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            name = f"{section}.{key}"
            if POSITIVE.fullmatch(key) and (value < 1 or value != int(value)):
                raise UserError(f"{name} must be a whole number >= 1, got {value}")
            if FRACTION.fullmatch(key) and not 0 <= value < 1:
                raise UserError(f"{name} must be in [0, 1), got {value}")
