"""The Python API (rnnsuite.train / load / evaluate) against the console scripts, on the fixtures: the same
overrides give the same run, the same checkpoint the same answers, and a user's mistake the same one line.
(tests/slow/test_wheel.py runs the API from a wheel installed in a new environment.)"""
import json

import pandas as pd
import pytest

import rnnsuite
from tests.conftest import FAST, run_cli

pytestmark = pytest.mark.xdist_group("sentiment")  # shares the sentiment fixture runs with the contract test


def results(run_dir):
    return json.loads((run_dir / "results.json").read_text())


def test_train_gives_what_rnn_train_gives_and_its_checkpoint_answers_as_rnn_predict(
        fixture_run, fixture_data_dir, tmp_path, monkeypatch, predict_here):
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    cli = fixture_run("sentiment", "cell=gru")  # rnn-train task=sentiment data=sentiment_fixture ... cell=gru
    # the same run: override strings, a keyword option and a dotted key as keywords
    run = rnnsuite.train("sentiment", "data=sentiment_fixture", *FAST, dir=tmp_path / "api", cell="gru",
                         **{"trainer.max_epochs": 1})
    assert run.dir == tmp_path / "api" and run.results == results(run.dir)
    assert run.results["cell"] == "gru", "cell='gru' was applied"
    expected = results(cli)
    for key in ("test", "baselines", "splits", "best_val", "parameters"):
        assert run.results[key] == expected[key], key  # exactly: same seed, same config, same code
    assert run.checkpoint == tmp_path / "api" / "checkpoints" / "best.ckpt" and run.checkpoint.is_file()

    model = rnnsuite.load(run.checkpoint)
    assert model.task == "sentiment"
    texts = ["a moving film", "a dull, lifeless script"]
    answers = model.predict(texts)
    assert model.predict(texts[0]) == answers[0]
    for text, (label, p) in zip(texts, answers):
        code, out, err = predict_here("task=sentiment", f"ckpt={cli / 'checkpoints' / 'best.ckpt'}", f"text='{text}'")
        assert code == 0, err
        said_label, said_p, said_text = out.strip().split("\t")[:3]  # the text, then "  [N unknown words]"
        assert (label, f"{p:.3f}", text) == (said_label, said_p, said_text.split("  [")[0])
        assert 0.5 <= p <= 1 and label in ("fresh", "rotten")

    metrics = rnnsuite.evaluate(run.checkpoint, dir=tmp_path / "eval")
    assert metrics == pytest.approx(run.results["test"], rel=1e-5, abs=1e-6)
    assert results(tmp_path / "eval")["test"] == metrics


def test_forecast_of_a_dataframe_is_rnn_predicts_csv(fixture_run, tmp_path, predict_here):
    from rnnsuite.tasks.forecasting.predict import example_csv
    ckpt = fixture_run("forecasting") / "checkpoints" / "best.ckpt"
    recent = example_csv(tmp_path / "recent.csv")
    code, _, err = predict_here("task=forecasting", f"ckpt={ckpt}", f"csv={recent}", f"out={tmp_path / 'fc.csv'}")
    assert code == 0, err
    cli = pd.read_csv(tmp_path / "fc.csv", parse_dates=["time"], float_precision="round_trip")

    model = rnnsuite.load(ckpt)
    got = model.forecast(pd.read_csv(recent))
    pd.testing.assert_frame_equal(got, cli, check_dtype=False)
    assert len(got) == model.model.data_state["horizon"] and not got.isna().any().any()
    with pytest.raises(rnnsuite.UserError, match=r"^a forecasting model has no \.predict\(\); ask it with "
                                                 r"\.forecast\(\)$"):
        model.predict(["a moving film"])


def test_a_users_mistake_is_the_line_the_console_script_prints(fixture_run, fixture_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    for args in (["model.hiden_size=3"],          # Hydra cannot compose it
                 ["model.hidden_size=0"],         # the job refuses it
                 ["data.split_seed=1", "cell=gruu"]):  # a deprecated name (renamed, a warning) and no such option
        proc = run_cli("rnn-train", "task=sentiment", *args, f"hydra.run.dir={tmp_path / 'cli'}")
        assert proc.returncode == 2
        with pytest.raises(rnnsuite.UserError) as e:
            rnnsuite.train("sentiment", *args, dir=tmp_path / "api")
        assert f"error: {e.value}" == proc.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "api").exists()

    sentiment = fixture_run("sentiment") / "checkpoints" / "best.ckpt"
    with pytest.raises(rnnsuite.UserError, match="^checkpoint not found: nope.ckpt$"):
        rnnsuite.load("nope.ckpt")
    with pytest.raises(rnnsuite.UserError, match="^input 2 is empty text"):
        rnnsuite.load(sentiment).predict(["a moving film", "  "])
    with pytest.raises(rnnsuite.UserError, match=r"^a sentiment model has no \.sample\(\); ask it with \.predict"):
        rnnsuite.load(sentiment).sample("ROMEO:", 10)
    with pytest.raises(rnnsuite.UserError, match=r"^hydra\.run\.dir=x: hydra\.\* options belong to the console "):
        rnnsuite.evaluate(sentiment, "hydra.run.dir=x")


# The other tasks' answers: each the same as rnn-predict's for the same input (its registered example).
ASKED = {
    "charlm": (lambda m, _: m.sample("ROMEO:", 40, temperature=0.8), ["prime=ROMEO:", "length=40", "temperature=0.8"],
               lambda out: out.removesuffix("\n")),
    "translation": (lambda m, _: m.predict(["3 de marzo de 2021"], beam_size=2),
                    ["text='3 de marzo de 2021'", "beam_size=2"], lambda out: out.splitlines()),
    "captioning": (lambda m, image: m.caption([image]), ["image={image}"],
                   lambda out: [line.split("\t")[1] for line in out.splitlines()]),
}


@pytest.mark.parametrize("task", [pytest.param(t, marks=pytest.mark.xdist_group(t)) for t in ASKED])
def test_each_tasks_answer_is_rnn_predicts(task, fixture_run, tmp_path, predict_here):
    from rnnsuite.tasks.captioning.predict import example_image
    ask, overrides, read = ASKED[task]
    ckpt = fixture_run(task) / "checkpoints" / "best.ckpt"
    image = example_image(tmp_path / "scene.png")
    code, out, err = predict_here(f"task={task}", f"ckpt={ckpt}", *[o.format(image=image) for o in overrides])
    assert code == 0, err
    answer = ask(rnnsuite.load(ckpt), image)
    assert answer == read(out) and answer
