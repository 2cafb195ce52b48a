"""Real Fashion-MNIST: fetch the Debian package, check 60,000 + 10,000 images, and that scenes really are
built from the right images (train/val from the train set's disjoint parts, test only from t10k)."""
import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    import os
    from rnnsuite.data import get_source
    os.environ["RNNSUITE_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    return get_source("fashion_mnist").fetch()


def test_fetch_counts_and_classes(raw):
    from rnnsuite.data import get_source
    from rnnsuite.data.sources.fashion_mnist import load
    src = get_source("fashion_mnist")
    assert src.is_present(raw)
    for split, n in (("train", 60000), ("t10k", 10000)):
        x, y = load(raw, split)
        assert x.shape == (n, 28, 28) and x.dtype == np.uint8
        assert (np.bincount(y, minlength=10) == n // 10).all()
        assert 60 < x.mean() < 90  # real clothing images, not blanks
    assert src.fetch() == raw  # idempotent: present and checksummed, nothing fetched again


def test_scenes_come_from_the_right_images(raw):
    from rnnsuite.data.sources.fashion_mnist import load
    from rnnsuite.tasks.captioning.captions import caption_content
    from rnnsuite.tasks.captioning.data import load_scenes
    out = load_scenes("fashion_mnist", {"train": 200, "val": 50, "test": 100}, seed=0)
    tr_x, tr_y = load(raw, "train")
    te_x, te_y = load(raw, "t10k")
    pools = {"train": (tr_x[:55000], tr_y[:55000]), "val": (tr_x[55000:], tr_y[55000:]), "test": (te_x, te_y)}
    for split, (canvases, captions, contents) in out.items():
        px, py = pools[split]
        for canvas, refs, items in zip(canvases, captions, contents):
            for _r, _c, cls, idx, y, x in items:
                assert py[idx] == cls and np.array_equal(canvas[0, y:y + 28, x:x + 28], px[idx])
            truth = tuple(sorted((k, sum(it[2] == k for it in items)) for k in {it[2] for it in items}))
            assert all(caption_content(ref) == truth for ref in refs)
