"""rnnsuite.run's process-level pieces: the dependency noise it silences (and only that), and the command that
runs rnn-train in a process of its own (a study's --wrap)."""
import json
import logging
import sys
import warnings

from rnnsuite.run import RANK_ZERO_LOGGERS, console_command, quiet_dependencies


def test_quiet_dependencies_drops_lightnings_noise_and_keeps_its_other_lines(tmp_path):
    import pytorch_lightning as pl
    from pytorch_lightning.utilities._pytree import _tree_flatten
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    loggers = [logging.getLogger(name) for name in RANK_ZERO_LOGGERS]  # whichever Lightning logs to here
    before = [(log.disabled, log.level) for log in loggers]
    for log in loggers:  # an earlier in-process Hydra run may have disabled them (hydra/job_logging=disabled)
        log.addHandler(handler)
        log.disabled, log.level = False, logging.INFO
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            quiet_dependencies()
            quiet_dependencies()  # again: still one filter
            pl.Trainer(logger=False, limit_train_batches=1.0, limit_val_batches=1, accelerator="cpu",
                       default_root_dir=tmp_path, enable_progress_bar=False)
            _tree_flatten(1)  # Lightning's pytree helper builds a torch LeafSpec: torch's FutureWarning
            warnings.warn_explicit("another FutureWarning", FutureWarning, "_pytree.py", 1,
                                   module="pytorch_lightning.utilities._pytree")
    finally:
        for log, (disabled, level) in zip(loggers, before):
            log.removeHandler(handler)
            log.disabled, log.level = disabled, level
    said = [r.getMessage() for r in records]
    assert not [m for m in said if "litlogger" in m or "=1.0)` was configured" in m], said
    assert "`Trainer(limit_val_batches=1)` was configured so 1 batch will be used." in said  # one batch: a choice
    assert any(m.startswith("GPU available:") for m in said), said
    assert [str(w.message) for w in caught if issubclass(w.category, FutureWarning)] == ["another FutureWarning"]
    assert all(sum(type(f).__name__ == "_DropNoise" for f in logging.getLogger(name).filters) == 1
               for name in RANK_ZERO_LOGGERS)


def test_a_study_run_under_a_wrapper_is_rnn_train_in_its_own_process(tmp_path):
    """rnn-reproduce --wrap CMD: each run is `CMD <rnn-train> ...`, found through its entry point."""
    from rnnsuite.studies.base import Run, execute
    assert console_command("rnn-train")[0] == sys.executable
    wrapper = tmp_path / "wrap.py"  # records that it ran, then runs the command it was given
    wrapper.write_text("import os, sys\nopen(sys.argv[1], 'w').write(repr(sys.argv[2:]))\n"
                       "os.execvp(sys.argv[2], sys.argv[2:])\n")
    run = Run({"seed": 1}, ["task=synthetic", "data.seq_len=8", "data.n_train=64", "data.n_val=32", "data.n_test=32",
                            "model.hidden_size=8", "trainer.max_epochs=1", "++trainer.max_time=null"],
              dir=tmp_path / "run")
    logged = []
    assert execute([run], wrap=[sys.executable, str(wrapper), str(tmp_path / "wrapped")], log=logged.append) == 1
    assert not (run.dir / "error.txt").exists(), (run.dir / "train.log").read_text()[-2000:]
    assert json.loads((run.dir / "results.json").read_text())["task"] == "synthetic"
    assert "task=synthetic" in (tmp_path / "wrapped").read_text()


def test_a_study_run_folder_of_another_command_is_set_aside_not_trusted(tmp_path):
    """A study whose grid or budget changed: the folder named by the run's key holds another command's results and
    checkpoint. They are not this run's (not finished, not resumed, not collected); running it keeps the old folder
    beside the new one instead of overwriting it."""
    from rnnsuite.studies.base import Run, collect, execute
    run = Run({"seed": 1}, ["task=synthetic", "data.seq_len=8", "data.n_train=64", "data.n_val=32", "data.n_test=32",
                            "model.hidden_size=8", "trainer.max_epochs=1", "++trainer.max_time=null"],
              dir=tmp_path / "seed=1")
    (run.dir / "checkpoints").mkdir(parents=True)
    (run.dir / "command.txt").write_text("rnn-train task=synthetic trainer.max_epochs=2\n")
    (run.dir / "results.json").write_text('{"task": "the old command\'s"}')
    (run.dir / "checkpoints" / "last.ckpt").write_bytes(b"the old command's")
    assert run.stale and not run.finished and run.resume == []
    assert collect([run])[0].results is None
    assert execute([run], log=lambda _: None) == 1
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("seed=1.other-")]
    assert len(kept) == 1 and json.loads((kept[0] / "results.json").read_text()) == {"task": "the old command's"}
    assert not (run.dir / "error.txt").exists(), (run.dir / "train.log").read_text()[-2000:]
    assert run.finished and not run.stale
    assert collect([run])[0].results["task"] == "synthetic"


def test_a_wandb_run_prints_no_deprecation_of_a_setting_nobody_set(tmp_path):
    """Lightning hands wandb.init `anonymous=None`, which W&B warns about on every run; build_loggers drops it.
    In a process of its own: W&B's terminal settings are process-wide, and an earlier test in this worker may
    have silenced them."""
    import os
    import subprocess
    script = ("import sys\n"
              "from omegaconf import OmegaConf\n"
              "from rnnsuite.run import build_loggers, finish_loggers\n"
              "cfg = OmegaConf.create({'logger': {'wandb': {'_target_': 'pytorch_lightning.loggers.WandbLogger',"
              " 'project': 'probe', 'save_dir': sys.argv[1]}}})\n"
              "finish_loggers(build_loggers(cfg))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")} | {"WANDB_MODE": "offline"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "wandb" in done.stderr.lower(), done.stderr  # W&B did speak (offline run): the check below is not vacuous
    assert "anonymous" not in done.stderr, done.stderr


def test_a_study_runs_seed_by_seed_with_its_one_seed_diagnostic_last(tmp_path):
    from rnnsuite.studies.bahdanau import STUDY
    from rnnsuite.studies.base import execute
    runs = STUDY.runs(3)
    for r in runs:
        r.dir = tmp_path / r.name
    order = []
    execute(runs, log=lambda _: None, run_here=lambda r: order.append((r.key["model"], r.key["seed"])))
    # a study cut off part-way has both models of its first seeds; the wiring shown once, for the cause, comes last
    assert order == [("attention", 1), ("no attention", 1), ("attention", 2), ("no attention", 2),
                     ("attention", 3), ("no attention", 3), ("no attention, initial state only", 1)]
