"""The package's shape: the wheel's package list covers the tree, imports run the right way (the library never
imports the CLI, nothing but the console scripts' own tests names it, a task never imports another task),
importing the package is cheap and importing a task has no side effects, and every task in conf/task is
registered."""
import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from rnnsuite.config import conf_options
from rnnsuite.registry import all_tasks

ROOT = Path(__file__).resolve().parents[2]
# where each installed package lives in the repository (pyproject's package-dir)
ROOTS = {"rnnsuite": ROOT / "src" / "rnnsuite", "rnnsuite.tasks": ROOT / "tasks", "rnnsuite.conf": ROOT / "conf",
         "hydra_plugins": ROOT / "src" / "hydra_plugins"}


def modules():
    """{dotted module name: path} of every .py file that the wheel installs."""
    out = {}
    for pkg, root in ROOTS.items():
        for f in root.rglob("*.py"):
            if "__pycache__" in f.parts:
                continue
            if pkg == "rnnsuite" and root / "tasks" in f.parents:
                continue
            rel = f.relative_to(root).with_suffix("").parts
            name = ".".join((pkg, *rel))
            out[name[: -len(".__init__")] if name.endswith(".__init__") else name] = f
    return out


def imported(path, name):
    """The absolute module names a file imports (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out |= {base} | {f"{base}.{a.name}" for a in node.names}
    return out


def test_the_wheel_lists_every_package_of_the_tree():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {n for n, p in modules().items() if p.name == "__init__.py"}
    assert listed == on_disk


def test_the_wheel_carries_every_config_file():
    """Each YAML file of conf/ (e.g. conf/sweep/space/*.yaml, two folders down) matches a package-data pattern."""
    from fnmatch import fnmatch
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools["package-data"]["rnnsuite.conf"]
    files = [str(f.relative_to(ROOT / "conf")) for f in (ROOT / "conf").rglob("*.yaml")]
    missing = [f for f in files if not any(fnmatch(f, p) and p.count("/") == f.count("/") for p in patterns)]
    assert not missing


def test_only_the_cli_imports_the_cli_and_no_task_imports_another():
    offenders = []
    for name, path in modules().items():
        deps = imported(path, name)
        if not name.startswith("rnnsuite.cli") and any(d.startswith("rnnsuite.cli") for d in deps):
            offenders.append(f"{name} imports the CLI")
        if name.startswith("rnnsuite.tasks."):
            own = ".".join(name.split(".")[:3])
            others = {d for d in deps if d.startswith("rnnsuite.tasks.") and not d.startswith(own)}
            if others:
                offenders.append(f"{name} imports another task: {sorted(others)}")
        if any(d == "tasks" or d.startswith("tasks.") for d in deps):
            offenders.append(f"{name} imports the top-level name `tasks`")
    assert not offenders


def test_only_the_console_scripts_and_their_tests_name_the_cli():
    """`rnnsuite.cli` holds the console scripts; everything else (the library, the studies, scripts/, the bench's
    helpers, every test but the console scripts' own in tests/cli/, the docs and configs) goes through the library
    (rnnsuite.run, rnnsuite.config, rnnsuite.api). pyproject.toml may name it in its console-script entries and its
    package list; this file names it to check it."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    pattern = "rnnsuite.cli"  # as `git grep` reads it: the dot matches any character
    proc = subprocess.run(["git", "grep", "--untracked", "-n", pattern, "--", ".", ":!src/rnnsuite/cli/",
                           ":!tests/cli/", ":!pyproject.toml", f":!{Path(__file__).relative_to(ROOT)}"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    offenders = proc.stdout.splitlines()
    # pyproject.toml: the console-script entries and the package list, nothing else
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r'(?m)^rnn-\w+ = "rnnsuite\.cli\.\w+:main"$', "", text).replace('"rnnsuite.cli",', "", 1)
    offenders += [f"pyproject.toml: {line}" for line in text.splitlines() if re.search(pattern, line)]
    assert not offenders, "\n".join(offenders)


def test_importing_the_package_is_cheap_and_its_api_loads_on_first_use():
    """`import rnnsuite` loads no torch, Lightning or Hydra; `rnnsuite.train` (and the rest of the API) loads
    them when first asked for."""
    code = ("import sys, rnnsuite\n"
            "heavy = [m for m in ('torch', 'pytorch_lightning', 'hydra', 'omegaconf') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "from rnnsuite import UserError, load\n"
            "assert rnnsuite.train.__module__ == 'rnnsuite.api' and issubclass(UserError, ValueError)\n"
            "assert set(rnnsuite.__all__) <= set(dir(rnnsuite))\n"
            "try:\n    rnnsuite.nope\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit('no error')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT / "tests")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_importing_every_task_has_no_side_effects():
    """In a fresh interpreter: importing all task modules registers no resolver and loads no CLI module."""
    mods = [n for n in modules() if n.startswith("rnnsuite.tasks.")]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in mods) +
            "from omegaconf import OmegaConf\n"
            "assert not OmegaConf.has_resolver('rnnsuite_task_configs'), 'a resolver was registered'\n"
            "assert not [m for m in sys.modules if m.startswith('rnnsuite.cli')], 'the CLI was imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT / "tests")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_every_task_config_is_a_registered_task():
    tasks = all_tasks()
    assert set(conf_options("task")) <= set(tasks)
    for name, task in tasks.items():
        assert task.metrics and "loss" in task.metrics, name


def test_the_readme_lists_every_task_with_its_documented_metrics():
    """The README (generated from docs/_src/README.md) names every built-in task, the metrics its registration
    documents (which the task contract holds each task's results.json to), and links to the task's page."""
    rows, links = {}, {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 6 and cells[3].startswith("`") and "," in cells[4]:
            rows[cells[3].strip("`")] = [m.strip() for m in cells[4].split(",")]
            links[cells[3].strip("`")] = re.findall(r"\]\(([^)]+)\)", cells[2])
    builtin = {n: t for n, t in all_tasks().items() if t.config == "rnnsuite.conf"}
    assert set(rows) == set(builtin)
    for name, task in builtin.items():
        assert rows[name] == list(task.metrics), name
        assert links[name] == [f"docs/tasks/{name}.md"] and (ROOT / links[name][0]).is_file(), name
