"""Fetch helpers (atomic, checksummed), the registry, tokenisers and batching."""
import bz2
import zipfile

import pytest

from rnnsuite.data import DataError, TextTokenizer, all_sources, get_source, pad_sequences
from rnnsuite.data.fetch import atomic_path, extract_member, sha256
from rnnsuite.data.text import BOS, EOS, PAD, UNK


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    final = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(final) as tmp:
            tmp.write_text("half")
            raise RuntimeError("connection dropped")
    assert not final.exists() and list(tmp_path.iterdir()) == []
    with atomic_path(final) as tmp:
        tmp.write_text("whole")
    assert final.read_text() == "whole" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_extract_member_verifies_checksum(tmp_path):
    arc = tmp_path / "pkg.whl"
    with zipfile.ZipFile(arc, "w") as z:
        z.writestr("pkg/data/file.txt", "payload")
    good = tmp_path / "good.txt"
    (tmp_path / "ref.txt").write_text("payload")
    extract_member(arc, "pkg/data/file.txt", good, sha256(tmp_path / "ref.txt"))
    assert good.read_text() == "payload"
    bad = tmp_path / "bad.txt"
    with pytest.raises(DataError, match="checksum mismatch"):
        extract_member(arc, "pkg/data/file.txt", bad, "0" * 64)
    assert not bad.exists()  # a corrupt download is never left where a later run would trust it


def test_registry_knows_rotten_tomatoes_and_refuses_unknown(data_dir):
    assert "rotten_tomatoes" in all_sources()
    src = get_source("rotten_tomatoes")
    with pytest.raises(DataError, match="rnn-data fetch rotten_tomatoes"):
        src.require()
    with pytest.raises(DataError, match="unknown dataset 'nope'"):
        get_source("nope")


def test_rotten_tomatoes_loader_on_fixture_file(data_dir):
    """The loader on a small file of the real schema: plot rows dropped, labels mapped."""
    from rnnsuite.data.sources.rotten_tomatoes import FILE, load
    raw = data_dir / "raw" / "rotten_tomatoes"
    raw.mkdir(parents=True)
    csv = "category,text,movie_name,has_plot_and_reviews\nplot,A plot.,m,True\nfresh,Great fun ,m,True\n" \
          "rotten,Dull.,m,True\n"
    (raw / FILE).write_bytes(bz2.compress(csv.encode()))
    df = load(raw)
    assert df["text"].tolist() == ["Great fun", "Dull."] and df["label"].tolist() == [1, 0]


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_tokenizers_round_trip_and_specials(kind):
    texts = ["the cat sat on the mat", "the dog sat", "a cat and a dog"] * 5
    tk = TextTokenizer.train(texts, kind, vocab_size=60, min_frequency=1)
    assert (tk.pad_id, tk.bos_id, tk.eos_id, tk.unk_id) == (PAD, BOS, EOS, UNK)
    ids = tk.encode("the cat sat", bos=True, eos=True)
    assert ids[0] == BOS and ids[-1] == EOS
    assert tk.decode(ids) == "the cat sat"
    again = TextTokenizer.from_str(tk.to_str(), kind)
    assert again.encode("the dog") == tk.encode("the dog")
    unseen = tk.encode("zebra")
    assert UNK in unseen and tk.unknown("the zebra")  # unknown pieces map to <unk>, never crash


def test_pad_sequences():
    tokens, lengths = pad_sequences([[5, 6, 7], [8]], pad_value=0)
    assert tokens.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]


def test_the_datamodule_base_dispatches_sources_and_sets_up_once(data_dir):
    from rnnsuite.tasks.music.data import MusicDataModule
    from rnnsuite.tasks.sentiment.data import SentimentDataModule
    with pytest.raises(DataError, match="unknown sentiment source 'imdb'; use rotten_tomatoes, fixture"):
        SentimentDataModule(source="imdb").setup()
    with pytest.raises(DataError, match="run `rnn-data fetch rotten_tomatoes`"):
        SentimentDataModule().setup()  # a registered dataset that is not fetched: what to run
    dm = MusicDataModule(source="fixture", fixture_size=20, batch_size=4)
    dm.setup("fit")
    first = dm.datasets
    dm.setup("test")
    assert dm.datasets is first  # set up once
    summary = dm.split_summary()
    assert sum(s["chorales"] for s in summary.values()) == 20
    assert summary["train"]["frames"] == sum(len(r) for r in dm.splits["train"]["rolls"])
    batches = {split: next(iter(dm.loader(split))) for split in ("train", "val", "test")}
    assert all(b["inputs"].shape[0] <= 4 for b in batches.values())


def test_a_resumable_loader_draws_nothing_from_the_global_rng():
    """A plain DataLoader with a batch sampler draws its workers' base seed from the global torch RNG each time
    an epoch's iterator is made; a mid-epoch resume restores that RNG before the iterator is made, so the draw
    would shift dropout and sampling against the run it continues. ResumableLoader draws from its own generator."""
    import torch
    from rnnsuite.data.module import ResumableLoader
    batches = [[0, 1], [2, 3]]

    def draws_global(loader_class):
        torch.manual_seed(0)
        before = torch.get_rng_state()
        assert [b.tolist() for b in loader_class(list(range(4)), batch_sampler=batches)] == batches
        return not torch.equal(before, torch.get_rng_state())

    assert draws_global(torch.utils.data.DataLoader), "the plain DataLoader draws (so this test can fail)"
    assert not draws_global(ResumableLoader)
