"""Sentiment on the generated fixture: it learns, predicts sensibly, and every bad input is one clear line."""
import json

import pytest
import torch

from tests.conftest import compose, run_cli

# with pytest-xdist (--dist loadgroup): one worker takes this file and the contract's sentiment tests, so they
# share the session's fixture runs of sentiment
pytestmark = pytest.mark.xdist_group("sentiment")


def test_learns_the_fixture_and_reads_new_text(fixture_run, tmp_path):
    """Six epochs on the fixture: well above the majority class, and new texts classified by their cue words
    (the train / eval / predict plumbing itself is the task contract's)."""
    run = fixture_run("sentiment", "cell=gru", "trainer.max_epochs=6")
    res = json.loads((run / "results.json").read_text())
    assert res["baselines"]["majority_class"]["acc"] == pytest.approx(0.5, abs=0.02)
    assert res["test"]["acc"] > 0.8  # the fixture's cue words are learnable in a few epochs
    # the out-of-domain check: the model and the same fitted baseline on a set it never trained on
    ood = res["out_of_domain"]["fixture_ood"]
    assert ood["size"] == 200 and 0 <= ood["balanced_acc"] <= 1
    assert {"acc", "balanced_acc"} <= set(res["baselines"]["tfidf_logreg_fixture_ood"])
    ckpt = run / "checkpoints" / "best.ckpt"
    lines = tmp_path / "lines.txt"
    lines.write_text("a dull and tedious plot\n\nthe cast is brilliant\nthe zzzyx qqq\n")
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
    """rnn-predict's work in-process (rnnsuite.run.predict): a user error, of one line."""
    from rnnsuite import UserError
    from rnnsuite.api import user_errors
    from rnnsuite.run import predict
    with pytest.raises(UserError) as exc, user_errors():
        predict(compose("predict", ["task=sentiment", *overrides]))
    assert not capsys.readouterr().err.strip()
    err = str(exc.value)
    assert len(err.splitlines()) == 1
    return err


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_a_clear_error(fixture_run, text, capsys):
    run = fixture_run("sentiment")
    assert "empty text" in _predict_error(capsys, f"ckpt={run}/checkpoints/best.ckpt", f"text='{text}'")


def test_missing_foreign_and_old_checkpoints(fixture_run, tmp_path, capsys):
    run = fixture_run("sentiment")
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
    ck["rnnsuite"] = {"task": "sentiment", "class": "tasks.sentiment.model.SentimentClassifier"}  # before 0.2
    old = tmp_path / "old.ckpt"
    torch.save(ck, old)
    assert "written by an older rnnsuite" in _predict_error(capsys, f"ckpt={old}", "text=hi")


def test_unknown_config_key_and_dataset(capsys):
    proc = run_cli("rnn-train", "task=sentiment", "model.hiden_size=3")
    assert _error(proc).startswith("error: unknown config key 'model.hiden_size'") and proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("rnn-data", "fetch", "imdb")
    assert _error(proc).startswith("error: unknown dataset 'imdb'") and proc.returncode == 2


def test_balanced_accuracy_by_hand():
    from rnnsuite.tasks.sentiment.data import scores
    # gold: 4 negatives, 2 positives; recall 3/4 and 1/2 -> balanced 0.625, accuracy 4/6
    s = scores([0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 1, 1])
    assert s["balanced_acc"] == pytest.approx(0.625) and s["acc"] == pytest.approx(4 / 6)
    assert scores([1] * 6, [0, 0, 0, 0, 1, 1])["balanced_acc"] == pytest.approx(0.5)  # majority guess


@pytest.fixture(scope="module")
def fixture_parts():
    from hydra.utils import instantiate
    from rnnsuite.config import plain
    from rnnsuite.tasks.sentiment.data import SentimentDataModule
    dm = SentimentDataModule("fixture", fixture_size=300, min_frequency=1, batch_size=32)
    dm.setup()
    cfg = compose(overrides=["task=sentiment", "cell=gru", "model.hidden_size=16", "model.embed_dim=16"])
    def build(**kw):
        torch.manual_seed(0)
        kw = {"optim": plain(cfg.optim), "ensemble": 1, **kw}  # one model unless a test asks for more
        model = instantiate(cfg.model, _convert_="all", cell=plain(cfg.cell), **dm.model_dims(), **kw)
        model.set_data_state(dm.state())
        return model
    return dm, build


def test_word_dropout_replaces_only_real_tokens(fixture_parts):
    dm, build = fixture_parts
    m = build(word_dropout=1.0)
    tokens = torch.tensor([[5, 6, 7, dm.tokenizer.pad_id], [8, dm.tokenizer.pad_id, dm.tokenizer.pad_id,
                                                           dm.tokenizer.pad_id]])
    out = m.drop_words(tokens)
    assert (out == torch.where(tokens == dm.tokenizer.pad_id, tokens, dm.tokenizer.unk_id)).all()
    assert torch.equal(build(word_dropout=0.0).drop_words(tokens), tokens)


def test_lm_pretraining_learns_and_leaves_the_classifier_shape(fixture_parts):
    """The bidirectional LM loss falls over the pretraining epochs, below ln V (a uniform guess over the
    vocabulary), the encoder's weights change, and the model keeps exactly the classifier's parameters."""
    import math
    dm, build = fixture_parts
    m = build(lm_pretrain_epochs=4, optim={"lr": 0.01})
    before = {k: v.clone() for k, v in m.state_dict().items()}
    history = m.pretrain_lm(dm.lm_dataloader())
    assert len(history) == 4 and history[-1] < history[0] - 0.3
    assert history[-1] < math.log(dm.tokenizer.vocab_size) - 0.3
    after = m.state_dict()
    assert after.keys() == before.keys() == build().state_dict().keys()
    assert not torch.equal(after["embed.weight"], before["embed.weight"])
    assert torch.equal(after["head.weight"], before["head.weight"])  # the classifier head is not pretrained


def test_ensemble_is_the_mean_of_independent_members(fixture_parts):
    """model.ensemble=2: its probabilities are the mean of what each member gives as a single model, and
    each member's gradient is the one that member alone gets on the batch (the members learn separately)."""
    dm, build = fixture_parts
    ens = build(ensemble=2).eval()
    batch = next(iter(dm.train_dataloader()))
    singles = []
    for member in ens.members():
        single = build().eval()
        for part, weights in zip((single.embed, single.encoder, single.head), member):
            part.load_state_dict(weights.state_dict())
        singles.append(single)
    assert not torch.equal(singles[0].embed.weight, singles[1].embed.weight)  # initialised independently
    probs = torch.stack([torch.softmax(s(batch["tokens"], batch["lengths"]), -1) for s in singles]).mean(0)
    assert torch.allclose(torch.softmax(ens(batch["tokens"], batch["lengths"]), -1), probs, atol=1e-6)

    ens._step(batch, "val").backward()
    for single, (embed, encoder, _) in zip(singles, ens.members()):
        single._step(batch, "val").backward()
        assert torch.allclose(embed.weight.grad, single.embed.weight.grad, atol=1e-6)
        for (_, a), (_, b) in zip(encoder.named_parameters(), single.encoder.named_parameters()):
            assert torch.allclose(a.grad, b.grad, atol=1e-6)
