"""Sentiment end to end on the generated fixture: train, results.json, eval, predict, and every bad input."""
import json

import pytest
import torch

from tests.conftest import FAST, compose, run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("sentiment_run")
    proc = run_cli("rnn-train", "task=sentiment", "data=sentiment_fixture", "cell=gru", "trainer.max_epochs=6",
                   *FAST, f"hydra.run.dir={run}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return run, proc


def test_train_writes_results_beside_baselines(trained):
    run, proc = trained
    res = json.loads((run / "results.json").read_text())
    assert res["task"] == "sentiment" and res["cell"] == "gru"
    assert {"acc", "macro_f1", "loss"} <= set(res["test"])
    assert {"tfidf_logreg", "majority_class"} <= set(res["baselines"])
    assert res["baselines"]["majority_class"]["acc"] == pytest.approx(0.5, abs=0.02)
    assert res["test"]["acc"] > 0.8  # the fixture's cue words are learnable in a few epochs
    assert (run / "checkpoints" / "best.ckpt").is_file() and (run / "config.yaml").is_file()
    assert (run / "learning_curves.png").is_file() and (run / "predictions.txt").read_text().strip()
    assert "baseline: tfidf_logreg" in proc.stdout


def test_eval_reproduces_test_metrics(trained):
    run, _ = trained
    out = run / "eval.json"
    proc = run_cli("rnn-eval", "task=sentiment", "data=sentiment_fixture", f"ckpt={run}/checkpoints/best.ckpt",
                   f"out={out}", f"hydra.run.dir={run / 'eval'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((run / "results.json").read_text())
    assert json.loads(out.read_text())["test"]["acc"] == pytest.approx(res["test"]["acc"])
    again = json.loads((run / "eval" / "results.json").read_text())
    assert again["test"]["acc"] == pytest.approx(res["test"]["acc"]) and "tfidf_logreg" in again["baselines"]


def test_predict_text_and_file(trained, tmp_path):
    run, _ = trained
    ckpt = run / "checkpoints" / "best.ckpt"
    proc = run_cli("rnn-predict", "task=sentiment", f"ckpt={ckpt}", "text=a superb and witty film")
    assert proc.returncode == 0, proc.stderr
    label, prob, text = proc.stdout.strip().split("\t")[:3]
    assert label == "fresh" and 0.5 <= float(prob) <= 1 and text.startswith("a superb")
    lines = tmp_path / "lines.txt"
    lines.write_text("a dull and tedious plot\n\nthe cast is brilliant\nzzzyx qqq\n")
    proc = run_cli("rnn-predict", "task=sentiment", f"ckpt={ckpt}", f"file={lines}")
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.strip().splitlines()
    assert [r.split("\t")[0] for r in rows[:2]] == ["rotten", "fresh"]
    assert "2 unknown words" in rows[2]  # unknown tokens map to <unk>, never crash


def _error(proc):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc.stderr.strip().splitlines()[-1]


def _predict_error(capsys, *overrides):
    """rnn-predict in-process (the same function the console script runs): exit code 2, one line on stderr."""
    from rnnsuite.cli.predict import predict
    with pytest.raises(SystemExit) as exc:
        predict(compose("predict", ["task=sentiment", *overrides]))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    return err


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_a_clear_error(trained, text, capsys):
    run, _ = trained
    assert "empty text" in _predict_error(capsys, f"ckpt={run}/checkpoints/best.ckpt", f"text='{text}'")


def test_missing_and_foreign_checkpoints(trained, tmp_path, capsys):
    run, _ = trained
    assert "checkpoint not found" in _predict_error(capsys, "ckpt=nope.ckpt", "text=hi")
    assert "no checkpoint given" in _predict_error(capsys, "text=hi")
    ck = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    ck["rnnsuite"]["task"] = "forecasting"
    other = tmp_path / "other.ckpt"
    torch.save(ck, other)
    msg = _predict_error(capsys, f"ckpt={other}", "text=hi")
    assert "is from task 'forecasting', not 'sentiment'" in msg
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    assert "cannot read checkpoint" in _predict_error(capsys, f"ckpt={junk}", "text=hi")


def test_unknown_config_key_and_dataset(capsys):
    proc = run_cli("rnn-train", "task=sentiment", "model.hiden_size=3")
    _error(proc)  # Hydra's own short message: what failed and how to append a new key, no traceback
    assert "Could not override 'model.hiden_size'" in proc.stderr
    from rnnsuite.cli.data import main as rnn_data
    assert rnn_data(["fetch", "imdb"]) == 2
    assert "unknown dataset 'imdb'" in capsys.readouterr().err
