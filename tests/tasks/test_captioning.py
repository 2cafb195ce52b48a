"""Captioning on generated fixtures: the scene captions, the content parser and scores, one real training run
(attention + beam), predicting from image files and folders, every bad image, and the Karpathy-split format."""
import json
from collections import Counter

import numpy as np
import pytest
import torch

from rnnsuite.data import DataError
from rnnsuite.tasks.captioning.captions import caption_content, detok
from rnnsuite.tasks.captioning.data import (CaptionDataModule, fixture_items, load_scenes,
                                   make_scenes, write_karpathy_fixture)
from rnnsuite.tasks.captioning.metrics import caption_scores
from tests.conftest import FAST, run_cli

# with pytest-xdist (--dist loadgroup): one worker takes this file and the contract's captioning tests, so they
# share the session's fixture runs of captioning
pytestmark = pytest.mark.xdist_group("captioning")

CELL = {"type": "lstm", "backend": "fused", "init": "default", "forget_bias": 1.0}


def _truth(items):
    return tuple(sorted(Counter(it[2] for it in items).items()))


@pytest.fixture(scope="module")
def scenes():
    x, y = fixture_items(10, seed=0)
    return make_scenes(x, y, 300, seed=3)


def test_every_reference_names_exactly_the_items(scenes):
    canvases, captions, contents = scenes
    assert canvases.shape == (300, 1, 64, 64) and canvases.dtype == np.uint8
    for refs, items in zip(captions, contents):
        assert 1 <= len(items) <= 4 and len({(r, c) for r, c, *_ in items}) == len(items)  # distinct cells
        assert len(refs) >= 4 and len(set(refs)) == len(refs)
        assert all(caption_content(r) == _truth(items) for r in refs), refs
    assert Counter(len(c) for c in contents).keys() == {1, 2, 3, 4}
    assert any(n > 1 for items in contents for _, n in _truth(items))  # counts ("two coats") occur


def test_references_describe_positions(scenes):
    _, captions, contents = scenes
    place = {(0, 0): "left", (0, 1): "right", (1, 0): "left", (1, 1): "right"}
    for refs, items in zip(captions, contents):
        text = " ".join(refs)
        for r, c, *_ in items:
            assert ("top" if r == 0 else "bottom") in text or ("upper" if r == 0 else "lower") in text
            assert place[(r, c)] in text
        if len(items) == 2 and items[0][2] != items[1][2]:
            assert any(w in text for w in ("left of", "right of", "above", "below", "diagonally"))


def test_captions_depend_on_the_image(scenes):
    """Scenes with different items never share a reference: a caption can only be right by looking."""
    _, captions, contents = scenes
    by_ref = {}
    for refs, items in zip(captions, contents):
        for r in refs:
            by_ref.setdefault(r, set()).add(_truth(items))
    assert all(len(v) == 1 for v in by_ref.values())


def test_scenes_are_seeded_and_cached(data_dir):
    x, y = fixture_items(5)
    a, b = make_scenes(x, y, 20, seed=1), make_scenes(x, y, 20, seed=1)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert a[1] != make_scenes(x, y, 20, seed=2)[1]
    sizes = {"train": 20, "val": 5, "test": 5}
    first = load_scenes("fixture", sizes, seed=0)
    assert len(list((data_dir / "processed").rglob("scenes_*.npz"))) == 1
    again = load_scenes("fixture", sizes, seed=0)
    for s in sizes:
        assert np.array_equal(first[s][0], again[s][0]) and first[s][1] == again[s][1]
        assert [list(map(tuple, c)) for c in first[s][2]] == again[s][2]


@pytest.mark.parametrize("text,expected", [
    ("two coats and a bag", ((4, 2), (8, 1))),
    ("a t-shirt above a shirt", ((0, 1), (6, 1))),
    ("three pairs of trousers and an ankle boot", ((1, 3), (9, 1))),
    ("in the top row, two sneakers; in the bottom row, a dress on the left", ((3, 1), (7, 2))),
    ("just one sandal, in the top left", ((5, 1),)),
    ("nothing here", ()),
])
def test_caption_content_parser(text, expected):
    assert caption_content(text) == expected


def test_detok_and_scores():
    assert detok("in the top row , a t - shirt ; a man ' s bag") == "in the top row, a t-shirt; a man's bag"
    refs = [["a coat in the top left", "one coat on its own"], ["two bags", "a bag above a bag on the left"]]
    contents = [((4, 1),), ((8, 2),)]
    hyps = ["a coat in the top left", "a bag above a bag on the left"]
    perfect = caption_scores(hyps, refs, contents)
    assert perfect["bleu4"] == pytest.approx(100) and perfect["content_acc"] == 1.0
    wrong = caption_scores([hyps[0], hyps[0]], refs, contents)
    assert wrong["content_acc"] == 0.5 and wrong["bleu4"] < perfect["bleu4"]
    assert "content_acc" not in caption_scores(hyps, refs)


def test_blind_model_ignores_the_image():
    from rnnsuite.tasks.captioning.model import Captioner
    from rnnsuite.tasks.captioning.data import TextTokenizer
    tk = TextTokenizer.train(["a coat", "two bags"], "word", min_frequency=1)
    kw = dict(vocab_size=tk.vocab_size, pad_id=0, bos_id=1, eos_id=2, in_channels=1, image_size=64, cell=CELL)
    blind = Captioner(blind=True, **kw).eval()
    seeing = Captioner(**kw).eval()
    assert blind.encoder is None and seeing.encoder is not None
    a, b = torch.zeros(2, 1, 64, 64, dtype=torch.uint8), torch.full((2, 1, 64, 64), 200, dtype=torch.uint8)
    tok, lengths = torch.tensor([[1, 4, 5]] * 2), torch.tensor([3, 3])
    assert torch.equal(blind(a, tok, lengths), blind(b, tok, lengths))
    assert not torch.allclose(seeing(a, tok, lengths), seeing(b, tok, lengths))


# ---------------------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def trained(fixture_run):
    """The contract's one-epoch fixture run: attention over the CNN's grid, beam 2 at test time."""
    return fixture_run("captioning"), None


def test_train_writes_scores_images_and_baseline(trained):
    run, _ = trained
    res = json.loads((run / "results.json").read_text())
    assert res["task"] == "captioning" and res["attention"] == "bahdanau" and res["decoding"] == "beam 2"
    for n in range(1, 5):
        assert 0 <= res["test"][f"bleu{n}"] <= 100
    assert res["test"]["bleu1"] >= res["test"]["bleu4"]
    assert 0 <= res["test"]["content_acc"] <= 1
    assert res["splits"] == {"train": {"images": 256}, "val": {"images": 64}, "test": {"images": 64}}
    for key in ("captions", "attention"):
        assert (run / f"{key}.png").stat().st_size > 1000
    assert "ref:" in (run / "predictions.txt").read_text()


def test_predict_images_any_size_and_mode(trained, tmp_path, predict_here):
    from PIL import Image
    run, _ = trained
    ckpt = run / "checkpoints" / "best.ckpt"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((90, 120, 3)) * 255).astype("uint8")).save(tmp_path / "big.jpg")
    Image.fromarray((rng.random((64, 64)) * 50).astype("uint8")).save(tmp_path / "scene.png")
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    code, out, err = predict_here("task=captioning", f"ckpt={ckpt}", f"image={tmp_path / 'big.jpg'}")
    assert code == 0, err
    name, caption, note = out.strip().split("\t")
    assert name == "big.jpg" and caption.strip() and "resized 120x90 to 64x64" in note and "RGB to L" in note
    code, out, err = predict_here("task=captioning", f"ckpt={ckpt}", f"image={tmp_path}", "beam_size=3")
    assert code == 0, err
    rows = out.strip().splitlines()
    assert [r.split("\t")[0] for r in rows] == ["big.jpg", "scene.png"]
    assert len(rows[1].split("\t")) == 2  # the right size and mode: no note


def test_bad_images_are_clear_errors(trained, tmp_path, predict_here):
    run, _ = trained
    ckpt = run / "checkpoints" / "best.ckpt"
    from PIL import Image
    Image.fromarray((np.random.default_rng(0).random((64, 64)) * 255).astype("uint8")).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("just some text")
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "folder").mkdir()
    cases = {"empty.png": "empty file (0 bytes)", "text.png": "not an image", "cut.png": "corrupt or truncated",
             "missing.png": "image not found", "folder": "no image files"}
    for name, expected in cases.items():
        code, _, err = predict_here("task=captioning", f"ckpt={ckpt}", f"image={tmp_path / name}")
        assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err


# ---------------------------------------------------------------------------------- Karpathy split
def test_karpathy_split_loader(tmp_path, data_dir):
    json_path, root = write_karpathy_fixture(tmp_path / "k", n=40)
    raw = json.loads(json_path.read_text())
    assert {"filename", "filepath", "split", "sentences", "imgid", "sentids"} <= set(raw["images"][0])
    dm = CaptionDataModule(source="karpathy", karpathy_json=str(json_path), image_root=str(root), channels=3,
                           image_size=32, batch_size=8)
    dm.setup("fit")
    counts = Counter(e["split"] for e in raw["images"])
    assert {k: len(v) for k, v in dm.datasets.items()} == {s: counts[s] for s in ("train", "val", "test")}
    item = dm.datasets["test"][0]
    assert item["image"].shape == (3, 32, 32) and item["content"] is None and len(item["refs"]) == 5
    assert dm.model_dims()["in_channels"] == 3 and dm.model_dims()["image_size"] == 32
    batch = dm.collate([dm.datasets["train"][i] for i in range(4)], "train")
    assert batch["images"].shape == (4, 3, 32, 32) and (batch["tokens"][:, 0] == dm.tokenizer.bos_id).all()
    assert "content_acc" not in dm.baselines()["most_frequent_caption"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"dataset": "x"}')
    with pytest.raises(DataError, match="not a Karpathy-split JSON"):
        CaptionDataModule(source="karpathy", karpathy_json=str(bad), image_root=str(root)).setup()
    with pytest.raises(DataError, match="Karpathy-split JSON not found"):
        CaptionDataModule(source="karpathy", karpathy_json=str(tmp_path / "none.json"), image_root=str(root)).setup()


def test_karpathy_trains_from_the_cli(tmp_path):
    json_path, root = write_karpathy_fixture(tmp_path / "k", n=40)
    proc = run_cli("rnn-train", "task=captioning", "data=karpathy", f"data.karpathy_json={json_path}",
                   f"data.image_root={root}", "data.image_size=32", "data.min_frequency=1", "trainer.max_epochs=1",
                   *FAST, f"hydra.run.dir={tmp_path / 'run'}", env={"RNNSUITE_DATA_DIR": str(tmp_path / 'data')})
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert "bleu4" in res["test"] and "content_acc" not in res["test"]
