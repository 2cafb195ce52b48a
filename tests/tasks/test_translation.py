"""Translation on the generated dates task: it learns (greedy and beam), predicts, refuses bad input; the data
sources, normalisation and splits."""
import json

import pytest

# with pytest-xdist (--dist loadgroup): one worker takes this file and the contract's translation tests, so they
# share the session's fixture runs of translation
pytestmark = pytest.mark.xdist_group("translation")


# learning to write dates in ISO form: more data and epochs than the contract's one-epoch fixture run
SMALL = ["data.fixture_size=2400", "model.hidden_size=64", "model.embed_dim=32", "model.num_heatmaps=2",
         "model.beam_size=5", "trainer.max_epochs=10", "optim.lr=0.005"]


@pytest.fixture(scope="module")
def trained(fixture_run):
    run = fixture_run("translation", *SMALL)
    return run, json.loads((run / "results.json").read_text())


def test_train_reports_bleu_chrf_greedy_and_beam(trained):
    run, res = trained
    t = res["test"]
    for k in ("bleu", "chrf", "bleu_beam1", "chrf_beam1", "loss", "token_acc"):
        assert k in t
    # dates -> ISO form is learnable in a few epochs: far above copying the source
    assert t["chrf"] > 60 and t["chrf"] > res["baselines"]["copy_source"]["chrf"] + 30
    sig = res["sacrebleu"]["beam5"]
    assert "nrefs:1" in sig["bleu_signature"] and "version:" in sig["chrf_signature"]
    assert res["pairs_before_filter"] == 2400 and sum(s["pairs"] for s in res["splits"].values()) <= 2400
    assert set(res["bleu_by_source_length"]) == {"beam1", "beam5"}
    rel = res["source_reliance"]  # the date is in the source: another date's source costs many nats per token
    assert rel["nll_own_source"] < 0.5 and rel["nll_other_source"] > rel["nll_own_source"] + 1.0
    for key in ("bleu_by_length", "attention_heatmaps"):
        assert (run / res["images"][key].split("/")[-1]).is_file()


def test_predict_text_file_beam_and_errors(trained, tmp_path, predict_here):
    run, _ = trained
    ckpt = run / "checkpoints" / "best.ckpt"
    base = ["task=translation", "data=dates_fixture", f"ckpt={ckpt}"]
    code, out, err = predict_here(*base, "text='3 de marzo de 2021'", "beam_size=5")
    assert code == 0, err
    out = out.strip().splitlines()[-1].replace(" ", "")
    assert len(out) >= 8 and out[:2] in ("19", "20")  # an ISO-looking date
    lines = tmp_path / "in.txt"
    lines.write_text("March 3, 2021\n12. Mai 1999\n“March 3, 2021”\n\"March 3, 2021\"\n", encoding="utf-8")
    code, out, err = predict_here(*base, f"file={lines}")
    out = out.strip().splitlines()
    assert code == 0 and len(out) == 4, err  # warnings go to stderr: stdout holds only the translations
    curly, straight = out[2:]
    assert curly == straight  # typographic quotes are read as the plain ones the model trained with
    # unknown characters are <unk>, never a crash
    code, out, err = predict_here(*base, "text='☃☃ 3 mars 2021'")
    assert code == 0 and "<unk>" in err and "warning" not in out and len(out.strip().splitlines()) == 1, err
    # empty source
    code, _, err = predict_here(*base, "text=' '")
    assert code == 2 and "empty" in err
    # too long: an error by default, a warning with too_long=truncate
    long = " ".join(["marzo"] * 60)
    code, _, err = predict_here(*base, f"text='{long}'")
    assert code == 2 and "limit" in err
    code, out, err = predict_here(*base, f"text='{long}'", "too_long=truncate")
    assert code == 0 and "truncated" in err and len(out.strip().splitlines()) == 1, err
    code, _, err = predict_here(*base, "text=hola", "beam_size=0")
    assert code == 2 and "beam_size must be >= 1" in err


def test_parallel_source_from_two_files_and_tsv(tmp_path, data_dir):
    from rnnsuite.tasks.translation.data import TranslationDataModule, generated_dates
    df = generated_dates(200, seed=1)
    (tmp_path / "a.txt").write_text("\n".join(df["src"]), encoding="utf-8")
    (tmp_path / "b.txt").write_text("\n".join(df["tgt"]), encoding="utf-8")
    dm = TranslationDataModule("parallel", src_file=tmp_path / "a.txt", tgt_file=tmp_path / "b.txt",
                               src_vocab_size=200, tgt_vocab_size=40, min_frequency=1)
    dm.setup()
    assert sum(len(v) for v in dm.splits.values()) == 200
    df.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    dm2 = TranslationDataModule("parallel", path=tmp_path / "p.tsv", src_vocab_size=200, tgt_vocab_size=40,
                                min_frequency=1)
    dm2.setup()
    # grouped by date: no date in two splits
    groups = [set(v["tgt"]) for v in dm2.splits.values()]
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2]) and not (groups[1] & groups[2])
    (tmp_path / "c.txt").write_text("one\ntwo\n", encoding="utf-8")
    from rnnsuite.data import DataError
    with pytest.raises(DataError, match="aligned"):
        TranslationDataModule("parallel", src_file=tmp_path / "a.txt", tgt_file=tmp_path / "c.txt").setup()
    with pytest.raises(DataError, match="needs data.path"):
        TranslationDataModule("parallel").setup()


def test_normalisation():
    from rnnsuite.tasks.translation.data import normalise
    assert normalise("EN el principio crió Dios") == "En el principio crió Dios"
    assert normalise("SUBIÓ, pues, Abram") == "Subió, pues, Abram"
    assert normalise("¶ And  God said, [but] the \\nd LORD") == "And God said, but the LORD"
    assert normalise("LORD, how long") == "LORD, how long"
    # what people type: curly quotes and apostrophes, dashes, an ellipsis, a no-break space
    assert normalise("“Don’t go,” he said\u00a0— ‘wait…’") == "\"Don't go,\" he said - 'wait...'"
    assert normalise("Pharaoh’s house") == normalise("Pharaoh's house") == "Pharaoh's house"


def test_contractions_for_the_reworded_test():
    from rnnsuite.tasks.translation.data import contract
    assert contract("Do not fear; I am with you. It is well, but you will not go.") == \
        "Don’t fear; I’m with you. It’s well, but you won’t go."
    assert contract("Nothing to shorten here.") == "Nothing to shorten here."


def test_bucketed_batches_cover_every_pair_once_with_little_padding_and_resume_mid_epoch():
    import numpy as np
    from rnnsuite.data.module import ResumableSampler
    from rnnsuite.tasks.translation.data import BucketBatches
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, size=1000)
    sampler = BucketBatches(ResumableSampler(range(1000), seed=1), lengths, 16, pool=10)
    epochs = []
    for epoch in (0, 1):
        sampler.sampler.set_epoch(epoch)  # what Lightning does at each epoch's start
        epochs.append(list(sampler))
    for batches in epochs:
        flat = sorted(i for b in batches for i in b)
        assert flat == list(range(1000)) and len(batches) == len(sampler) == 63
    assert epochs[0] != epochs[1]  # a new order every epoch

    def padding(batches):
        return np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    shuffled = [list(range(1000))[k:k + 16] for k in range(0, 1000, 16)]
    assert padding(epochs[0]) < 0.2 * padding(shuffled)

    # a new sampler with the same seed, resumed after 5 batches of epoch 1, reads on in epoch 1's order
    again = BucketBatches(ResumableSampler(range(1000), seed=1), lengths, 16, pool=10)
    again.sampler.set_epoch(1)
    again.resume_after(1, 5)
    assert list(again) == epochs[1][5:]
    assert list(again) == epochs[1]  # once only


def test_split_by_group_is_deterministic_and_whole():
    from rnnsuite.tasks.translation.data import split_by_group
    groups = [f"g{i // 3}" for i in range(300)]
    a, b = split_by_group(groups, 0.1, 0.1, 0), split_by_group(groups, 0.1, 0.1, 0)
    assert (a == b).all()
    for g in set(groups):
        assert len({s for s, gg in zip(a, groups) if gg == g}) == 1
    assert (a == "test").sum() == 30 and (a == "val").sum() == 30


def test_test_split_keeps_longer_pairs_of_its_groups_and_train_is_unchanged(tmp_path, data_dir):
    """test_max_*_words adds the val and test chapters' longer pairs; the train split stays the same."""
    import pandas as pd
    from rnnsuite.tasks.translation.data import TranslationDataModule
    rows = [{"src": " ".join(["w"] * (3 + (i % 7) * 4)), "tgt": f"t{i} x", "group": f"c{i // 5}"} for i in range(400)]
    pd.DataFrame(rows).to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    kw = dict(path=tmp_path / "p.tsv", src_vocab_size=50, tgt_vocab_size=50, min_frequency=1, max_src_words=12,
              val_frac=0.1, test_frac=0.1)
    short = TranslationDataModule("parallel", **kw)
    longer = TranslationDataModule("parallel", test_max_src_words=100, **kw)
    short.setup(), longer.setup()
    assert short.splits["train"].equals(longer.splits["train"])
    for split in ("val", "test"):
        n = longer.splits[split]["src"].str.split().str.len()
        assert short.splits[split]["src"].str.split().str.len().max() <= 12 and n.max() > 12
        assert set(longer.splits[split]["group"]) == set(short.splits[split]["group"])
        assert set(short.splits[split]["src"]) <= set(longer.splits[split]["src"])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_summary_input_conditions_every_decoder_step_as_cho_et_al(cell):
    """RNNencdec (Cho et al. 2014): the encoder's summary enters every decoder step and the readout, so the output
    depends on the source even where the initial state carries nothing of it (bridge zeroed); fed only as the
    initial state (summary_input=False) it then does not. Teacher forcing, stepping and packing agree."""
    import torch
    from torch import nn

    from rnnsuite.architectures import EncoderDecoder
    from rnnsuite.cells import RecurrentStack
    V, E, H = 9, 4, 6
    outs = {}
    for summary in (False, True):
        torch.manual_seed(0)
        emb_s, emb_t = nn.Embedding(V, E), nn.Embedding(V, E)
        enc = RecurrentStack(cell, E, H // 2, bidirectional=True)
        dec = RecurrentStack(cell, E + (H if summary else 0), H)
        m = EncoderDecoder(enc, dec, emb_t, nn.Linear(H + (H if summary else 0), V), summary_input=summary).eval()
        with torch.no_grad():
            m.bridge.proj.weight.zero_()
            m.bridge.proj.bias.zero_()
        src = torch.randint(3, V, (2, 7))
        other = src.clone()
        other[:, 0] = (src[:, 0] - 3 + 1) % (V - 3) + 3  # another first source token
        lengths, tgt = torch.tensor([7, 4]), torch.randint(3, V, (2, 5))
        with torch.no_grad():
            full = m(emb_s(src), lengths, tgt)
            outs[summary] = (full - m(emb_s(other), lengths, tgt)).abs().amax().item()
            state, steps = m.encode(emb_s(src), lengths), []
            for t in range(tgt.size(1)):
                logits, state = m.step(tgt[:, t], state)
                steps.append(logits)
            torch.testing.assert_close(torch.stack(steps, 1), full)  # greedy/beam decode what training scored
            padded = torch.cat([src, torch.full((2, 3), 3)], 1)  # padding past a source's length changes nothing
            torch.testing.assert_close(m(emb_s(padded), lengths, tgt), full)
    assert outs[False] == 0.0  # a zero initial state: the plain wiring cannot see the source
    assert outs[True] > 1e-3   # the summary reaches the decoder at every step
