"""Shared test helpers: compose configs in-process, run the console scripts as a user would."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Fast runs: CSV logger only, no progress bar, a couple of epochs.
FAST = ["logger=csv", "callbacks=quiet", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]


def compose(config_name="train", overrides=(), output_dir=None):
    """A composed config, as the CLI would see it, with the run folder set to output_dir."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from rnnsuite.cli.common import CONF_MODULE, register_resolvers
    register_resolvers()
    extra = [f"paths.output_dir={output_dir}"] if output_dir else []
    with initialize_config_module(CONF_MODULE, version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides) + extra)


def run_cli(tool, *args, cwd=None, env=None, timeout=600):
    """Run a console script (rnn-train, rnn-predict, ...) in a subprocess; returns CompletedProcess."""
    full_env = {**os.environ, "WANDB_MODE": "disabled", **(env or {})}
    return subprocess.run([str(BIN / tool), *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT,
                          env=full_env, timeout=timeout)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder for the test: nothing fetched, nothing shared with other tests."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(d))
    return d
