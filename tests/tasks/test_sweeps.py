"""Sweeps of rnn-train: a grid whose failing job does not stop the others, each job with its own W&B run; an
Optuna study whose failing trials (a user error, an impossible value, a NaN loss) are recorded while the sweep
goes on, that resumes, and that prunes through Optuna's Lightning callback."""
import json
import re

import optuna
from optuna.trial import TrialState

from tests.conftest import FAST, run_cli

SENTIMENT = ["task=sentiment", "data=sentiment_fixture", "data.fixture_size=200", "model.hidden_size=16",
             "model.embed_dim=16", "baselines=false"]


def test_grid_runs_every_job_and_each_gets_its_own_finished_wandb_run(tmp_path, data_dir):
    p = run_cli("rnn-train", "-m", *SENTIMENT, "optim.name=foo,adamw", "trainer.max_epochs=1", "callbacks=quiet",
                "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
                f"hydra.sweep.dir={tmp_path}", env={"WANDB_MODE": "offline"})
    assert p.returncode == 1, p.stderr[-3000:]
    assert "error: unknown optimizer 'foo'" in p.stderr and "error: 1 of 2 jobs failed" in p.stderr
    assert re.search(r"^  #0 .*optim\.name=foo.*: ValueError: unknown optimizer 'foo'", p.stderr, re.M)
    assert "Traceback" not in p.stderr
    assert (tmp_path / "1" / "results.json").is_file() and not (tmp_path / "0" / "results.json").exists()
    runs = [sorted((tmp_path / str(j) / "wandb").glob("offline-run-*")) for j in (0, 1)]
    assert [len(r) for r in runs] == [1, 1] and runs[0][0].name != runs[1][0].name
    # wandb 0.31 writes no wandb-summary.json offline: read the run's record file (protobuf, strings in clear)
    # and the exit code its finish() logged
    failed, done = [next(r[0].glob("run-*.wandb")).read_bytes() for r in runs]
    assert b"unknown optimizer 'foo'" in failed and b"val/loss" not in failed    # finished, with its error
    assert b"unknown optimizer" not in done and b"val/loss" in done
    exits = [re.findall(r"got exitcode: (\d+)", (r[0] / "logs" / "debug.log").read_text()) for r in runs]
    assert exits == [["1"], ["0"]]


def test_optuna_sweep_records_failures_resumes_and_prunes(tmp_path, data_dir):
    sweep = tmp_path / "sweep"
    args = ["-m", *SENTIMENT, "sweep=optuna", *FAST, f"hydra.sweep.dir={sweep}", "optim.name=choice(adamw, foo)",
            "hydra.sweeper.enqueue=[{optim.name: foo}, {optim.name: adamw, model.dropout: 1.5}, "
            "{optim.name: adamw, optim.lr: 1.0e30}, {optim.name: adamw}]"]
    p = run_cli("rnn-train", *args, "hydra.sweeper.n_trials=4", "trainer.max_epochs=1")
    assert p.returncode == 0, p.stderr[-3000:]
    study = optuna.load_study(study_name="sentiment", storage=f"sqlite:///{sweep / 'optuna.db'}")
    user_error, impossible, nan_loss, good = study.trials
    assert user_error.state == impossible.state == nan_loss.state == TrialState.FAIL
    assert user_error.user_attrs["error"] == "ValueError: unknown optimizer 'foo'; choose one of " \
                                             "['adam', 'adamw', 'rmsprop', 'sgd']"
    assert impossible.user_attrs["error"] == "UserError: model.dropout must be in [0, 1), got 1.5"
    assert "NonFiniteLossError: the training loss is nan" in nan_loss.user_attrs["error"]
    results = json.loads((sweep / "trial_3" / "results.json").read_text())
    assert good.state == TrialState.COMPLETE and good.value == results["best_val"]["val/acc"]
    assert good.user_attrs["run_dir"] == str(sweep / "trial_3")
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    assert summary["states"] == {"COMPLETE": 1, "FAIL": 3} and summary["best"]["number"] == 3
    assert (sweep / "sweep.png").is_file()

    # The same command with n_trials=5 resumes the study: one more trial, which a threshold pruner (val/acc must
    # reach 1.01) stops after its first of two epochs, through Optuna's Lightning callback.
    pruner = "hydra.sweeper.pruner={_target_:optuna.pruners.ThresholdPruner,lower:1.01}"
    # (its trial enqueued, so that TPE cannot draw the failing 'foo' again)
    args = [a.replace("{optim.name: adamw}]", "{optim.name: adamw}, {optim.name: adamw, optim.lr: 0.003}]")
            for a in args]
    p = run_cli("rnn-train", *args, "hydra.sweeper.n_trials=5", "trainer.max_epochs=2", pruner)
    assert p.returncode == 0, p.stderr[-3000:]
    trials = optuna.load_study(study_name="sentiment", storage=f"sqlite:///{sweep / 'optuna.db'}").trials
    assert len(trials) == 5 and trials[4].state == TrialState.PRUNED
    assert list(trials[4].intermediate_values) == [0]
    assert json.loads((sweep / "sweep_summary.json").read_text())["pruning"]["pruned"] == 1
