"""charlm: stateful truncated BPTT, O(1) sampling, document splits, clear errors; a tiny real run on the fixture."""
import json

import pytest
import torch

from rnnsuite.training.precision import choose_precision
from rnnsuite.tasks.charlm.data import (CharLMDataModule, StreamWindows, build_vocab, decode, encode, fixture_corpus,
                               split_documents, text_corpus)
from rnnsuite.tasks.charlm.model import CharLM
from rnnsuite.data import DataError
from tests.conftest import FAST, run_cli

# with pytest-xdist (--dist loadgroup): one worker takes this file and the contract's charlm tests, so they
# share the session's fixture runs of charlm
pytestmark = pytest.mark.xdist_group("charlm")

CELL = {"type": "lstm", "backend": "fused", "init": "default", "forget_bias": 1.0}


def tiny_model(vocab=20, cell=CELL, hidden=16):
    torch.manual_seed(0)
    m = CharLM(vocab, cell, embed_dim=8, hidden_size=hidden, num_layers=2, dropout=0.0)
    m.set_data_state({"chars": "".join(chr(97 + i) for i in range(vocab - 1))})
    return m


def test_windows_score_every_character_once_and_follow_on():
    ids = torch.arange(1, 2 * 50 + 1)  # two streams of 50
    w = StreamWindows(ids, batch_size=2, k1=4, k2=10)
    scored, starts = [], []
    for i in range(w.num_windows):
        b = w.window(i)
        starts.append(int(b["tokens"][0, 0]))
        scored += b["tokens"][0, 1 + b["score_from"]:].tolist()
    assert scored == list(range(2, 2 + len(scored)))            # contiguous, no gaps, no repeats
    assert len(scored) >= 50 - 1 - 4 and starts[1] - starts[0] == 4  # windows advance by k1
    assert w.window(0)["reset"] and not w.window(1)["reset"]


def test_epochs_continue_the_streams():
    w = StreamWindows(torch.arange(1, 401), batch_size=2, k1=8, k2=8, per_epoch=3)
    first = [int(b["tokens"][0, 0]) for b in w]
    second = [int(b["tokens"][0, 0]) for b in w]
    assert second[0] == first[-1] + 8  # the next epoch picks up where the last stopped


def test_carried_state_flows_across_window_boundaries():
    m = tiny_model().eval()
    tokens = torch.randint(1, 20, (3, 2 * 12 + 1))
    w = StreamWindows(tokens.flatten(), batch_size=3, k1=12, k2=12)
    w.streams = tokens  # lay out exactly these streams
    b0, b1 = w.window(0), w.window(1)
    with torch.no_grad():
        full, _ = m.rnn(m.embed(tokens[:, :-1]))
        full_logits = m.head(full)
        _, carry, _ = m.window_loss(b0, None)
        h1, _ = m.rnn(m.embed(b1["tokens"][:, :-1]), state=carry)
        h1_fresh, _ = m.rnn(m.embed(b1["tokens"][:, :-1]))
    # the second window, started from the carried state, continues the unbroken stream exactly
    torch.testing.assert_close(m.head(h1), full_logits[:, 12:24], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(h1, h1_fresh, atol=1e-3)  # and the carried state matters


@pytest.mark.parametrize("k1,k2", [(6, 6), (4, 10)])
def test_gradients_stop_at_the_truncation_point(k1, k2):
    m = tiny_model()
    streams = torch.randint(1, 20, (2, 60))
    w = StreamWindows(streams.flatten(), batch_size=2, k1=k1, k2=k2)
    w.streams = streams
    embedded = []

    def keep(module, inputs, out):  # the window's embedded inputs, to ask autograd about later
        embedded.append(out)

    m.embed.register_forward_hook(keep)
    loss0, carry, _ = m.window_loss(w.window(0), None)
    assert not carry[0].requires_grad and not carry[1].requires_grad  # detached: the cut
    loss1, _, _ = m.window_loss(w.window(1), carry)
    grads = torch.autograd.grad(loss1, [embedded[0], embedded[1]], allow_unused=True)
    assert grads[0] is None  # nothing flows back into the previous window
    g = grads[1].abs().sum(-1)  # [B, k2]: the current window's inputs
    assert (g[:, 0] > 0).all()  # ... but it reaches the window's first step: k2 steps back
    assert g.shape[1] == k2


def test_step_generation_matches_the_fused_forward_and_is_incremental():
    m = tiny_model().eval()
    ids = torch.randint(1, 20, (1, 15))
    with torch.no_grad():
        h, _ = m.rnn(m.embed(ids))
        ref = m.head(h)[0]
        state, got = None, []
        for t in range(15):
            logits, state = m.step(ids[:, t], state)
            got.append(logits[0, 1:])
    torch.testing.assert_close(torch.stack(got), ref[:, 1:], atol=1e-5, rtol=1e-4)
    calls = []
    m.rnn.stack.step = (lambda f: lambda *a, **k: (calls.append(1), f(*a, **k))[1])(m.rnn.stack.step)
    text = m.generate("abc", 40, temperature=0.9, top_k=5, seed=1)
    assert text.startswith("abc") and len(text) == 43
    assert len(calls) == 3 + 40  # one step per prime character and per generated character, no re-runs
    assert text == tiny_model().eval().generate("abc", 40, temperature=0.9, top_k=5, seed=1)  # seeded


def test_generate_rejects_bad_arguments():
    m = tiny_model()
    with pytest.raises(ValueError, match="'Z', '€'"):
        m.generate("abZ€", 10)
    with pytest.raises(ValueError, match="temperature"):
        m.generate("ab", 10, temperature=0)
    with pytest.raises(ValueError, match="length"):
        m.generate("ab", 0)


def test_split_by_document_is_seeded_and_disjoint():
    docs = fixture_corpus(12)
    a, b = split_documents(docs, 0.1, 0.1, 3), split_documents(docs, 0.1, 0.1, 3)
    assert a == b
    names = [set(a[k]) for k in ("train", "val", "test")]
    assert all(names) and not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert sum(map(len, names)) == 12
    one = split_documents({"f": "x" * 1000}, 0.1, 0.1, 0)
    assert [len(one[k]["f"]) for k in ("train", "val", "test")] == [800, 100, 100]


def test_vocab_and_encoding_round_trip():
    chars = build_vocab("hello world")
    ids = encode("hello zz", chars)
    assert ids[-1] == 0 and decode(ids[:5].tolist(), chars) == "hello"


def test_text_corpus_errors_name_the_file(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DataError, match="empty.txt is empty"):
        text_corpus(tmp_path / "empty.txt")
    with pytest.raises(DataError, match="latin.txt is not UTF-8"):
        text_corpus(tmp_path / "latin.txt")
    with pytest.raises(DataError, match="not found"):
        text_corpus(tmp_path / "nope")


def test_python_source_corpus_loads_without_fetch():
    dm = CharLMDataModule(source="python_source", batch_size=8, min_count=20)
    dm.setup()
    s = dm.split_summary()
    assert s["train"]["characters"] > 1_000_000 and s["test"]["documents"] > 0


def test_learns_the_fixture_and_predicts(fixture_run, tmp_path, predict_here):
    run = fixture_run("charlm", "trainer.max_epochs=4", "trainer.precision=auto")
    res = json.loads((run / "results.json").read_text())
    # the default precision (auto) is what this CPU runs natively, recorded and printed
    assert res["precision"]["precision"] == choose_precision("auto", "cpu", "bf16-mixed")[0]
    assert f"precision: {res['precision']['precision']}" in (run / "stdout.txt").read_text()
    # learns the fixture's structure: well below the unigram model on held-out documents
    assert res["test"]["bpc"] < res["baselines"]["unigram"]["bpc"] - 1.0
    assert len(res["sample_500"]) == len("ROMEO:") + 500
    ckpt = res["best_checkpoint"]
    code, out, err = predict_here("task=charlm", f"ckpt={ckpt}", "prime=ROMEO:", "length=60", "temperature=0.8",
                                  "top_k=5")
    assert code == 0 and out.startswith("ROMEO:") and len(out.strip()) >= 60, err
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    for args, msg in [(['prime="ROMEO ü"'], "'ü'"), (["temperature=0"], "temperature must be > 0"),
                      (["length=0"], "length must be a positive"), ([f"file={latin}"], "is not UTF-8"),
                      ([f"file={tmp_path / 'none.txt'}"], "input file not found")]:
        code, _, err = predict_here("task=charlm", f"ckpt={ckpt}", *args)
        assert code == 2 and msg in err and len(err.strip().splitlines()) == 1, err


def test_an_empty_corpus_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    bad = run_cli("rnn-train", "task=charlm", "data=text", f"data.path={empty}", *FAST,
                  f"hydra.run.dir={tmp_path / 'r2'}", f"paths.output_dir={tmp_path / 'r2'}")
    assert bad.returncode == 2 and "empty" in bad.stderr and "Traceback" not in bad.stderr


def test_streams_shard_evenly_over_processes():
    w = StreamWindows(torch.arange(1, 4 * 30 + 1), batch_size=4, k1=5, k2=5)
    full = w.window(2)["tokens"]
    w.shard(1, 2)
    torch.testing.assert_close(w.window(2)["tokens"], full[1::2])  # rank 1 of 2: streams 1 and 3
    w.shard(1, 2)
    assert w.streams.size(0) == 2                                     # sharding happens once
    with pytest.raises(DataError, match="divisible"):
        StreamWindows(torch.arange(1, 91), batch_size=3, k1=5, k2=5).shard(0, 2)


@pytest.mark.slow  # two processes; tests/slow/test_ddp.py checks every task the same way
def test_two_process_ddp_run_scores_the_test_split_like_one_process(tmp_path, data_dir):
    run = tmp_path / "ddp"
    r = run_cli("rnn-train", "task=charlm", "data=charlm_fixture", *FAST, "trainer.max_epochs=2",
                "model.hidden_size=32", "trainer=ddp", "trainer.devices=2", "trainer.accelerator=cpu",
                "trainer.precision=32-true",
                f"hydra.run.dir={run}", f"paths.output_dir={run}")
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((run / "results.json").read_text())
    out = tmp_path / "eval.json"
    ev = run_cli("rnn-eval", "task=charlm", "data=charlm_fixture", f"ckpt={res['best_checkpoint']}", f"out={out}",
                 f"hydra.run.dir={tmp_path / 'ev'}")
    assert ev.returncode == 0, ev.stderr[-2000:]
    # the test metric is synced over the processes: it equals one process scoring every stream
    assert json.loads(out.read_text())["test"]["bpc"] == pytest.approx(res["test"]["bpc"], rel=1e-5)


@pytest.mark.slow  # three runs; the default suite resumes charlm from a SIGKILL mid-epoch (tests/test_reliability.py)
def test_resume_continues_the_streams_and_their_state(tmp_path, data_dir):
    """Stopping after epoch 1 and resuming to epoch 3 trains exactly what one 3-epoch run trains: the
    training streams continue where they stopped, from the state carried so far (not from their start)."""
    args = ["task=charlm", "data=charlm_fixture", *FAST, "model.hidden_size=32", "trainer.precision=32-true",
            "data.windows_per_epoch=6",
            "optim.scheduler=none"]  # cosine_budget spans max_epochs, which the first run sets to 1

    def train(name, *extra):
        run = tmp_path / name
        r = run_cli("rnn-train", *args, *extra, f"hydra.run.dir={run}", f"paths.output_dir={run}")
        assert r.returncode == 0, r.stderr[-2000:]
        return run, json.loads((run / "results.json").read_text())

    _, whole = train("whole", "trainer.max_epochs=3")
    first, _ = train("first", "trainer.max_epochs=1")
    _, resumed = train("resumed", "trainer.max_epochs=3", f"resume={first / 'checkpoints' / 'last.ckpt'}")
    assert resumed["test"]["bpc"] == pytest.approx(whole["test"]["bpc"], rel=1e-5)
