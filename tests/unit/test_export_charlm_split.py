"""scripts/export_charlm_split.py: charlm's split for the outside loops (word_language_model, nanoGPT) reads back
as the same characters, and its harness stamps, interrupts and snapshots a command."""
import importlib.util
import json
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "export_charlm_split.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("export_charlm_split", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_like_word_language_model(path):
    """word_language_model's data.py, Corpus.tokenize: each line split on whitespace, then '<eos>'."""
    tokens = []
    with open(path, "r", encoding="utf8") as f:
        for line in f:
            tokens += line.split() + ["<eos>"]
    return tokens


def test_word_language_model_format_is_one_token_per_character(script, tmp_path):
    """Spaces, tabs, a carriage return, a no-break space, blank and space-only lines: one token per character,
    the newline as <eos>, and an unterminated last line gains only its <eos>."""
    text = "To be,  or\tnot\r\n\n   \nthat\xa0is\u2028the question"
    path = tmp_path / "t.txt"
    path.write_text(script.wlm_text(text), encoding="utf8")
    tokens = read_like_word_language_model(path)
    assert len(tokens) == len(text) + 1
    assert tokens[:6] == ["T", "o", "\u2423", "b", "e", ","]
    assert tokens.count("<eos>") == text.count("\n") + 1
    table = {script.standin(c): c for c in set(text)}
    assert script.wlm_decode(tokens, table) == text + "\n"
    path.write_text(script.wlm_text(text + "\n"), encoding="utf8")
    assert len(read_like_word_language_model(path)) == len(text) + 1


def test_export_reads_back_as_charlm_split(script, tmp_path):
    from hydra.utils import instantiate

    from rnnsuite.config import compose
    overrides = ["data=charlm_fixture", f"paths.data_dir={tmp_path / 'data'}"]
    script.main(["export", "--wlm", str(tmp_path / "wlm"), "--nanogpt", str(tmp_path / "gpt"),
                 "--report", str(tmp_path / "report.json"), *overrides])
    cfg = compose("train", ["task=charlm", *overrides])
    dm = instantiate(cfg.data, _convert_="all")
    dm.prepare_data()
    dm.setup("fit")
    report = json.loads((tmp_path / "report.json").read_text())
    meta = pickle.loads((tmp_path / "gpt" / "meta.pkl").read_bytes())
    charmap = json.loads((tmp_path / "wlm" / "charmap.json").read_text())
    for split, name in (("train", "train.txt"), ("val", "valid.txt"), ("test", "test.txt")):
        text = "".join(dm.splits[split].values())
        assert len(text) == len(dm.ids[split]) == report["splits"][split]["characters"]
        ids = np.fromfile(tmp_path / "gpt" / f"{split}.bin", dtype=np.uint16)
        assert "".join(meta["itos"][int(i)] for i in ids) == text
        tokens = read_like_word_language_model(tmp_path / "wlm" / name)
        assert "".join(charmap[t] for t in tokens) == (text if text.endswith("\n") else text + "\n")
    assert meta["vocab_size"] == len(meta["itos"]) == len(set("".join(
        "".join(dm.splits[s].values()) for s in ("train", "val", "test"))))


@pytest.mark.parametrize("n,block,stride", [(1000, 128, 128), (1000, 128, 64), (1000, 128, 1), (129, 128, 64),
                                            (50, 128, 64), (2, 8, 4)])
def test_sliding_windows_score_every_target_once(script, n, block, stride):
    windows, length = script.sliding_targets(n, block, stride)
    scored = []
    for s, first in windows:
        assert 0 <= s and s + length <= n - 1
        targets = [s + p + 1 for p in range(first, length)]
        if s > 0:  # after the first window a target has at least length - stride characters before it
            assert first >= length - stride
        scored += targets
    assert sorted(scored) == list(range(1, n))


def test_run_stamps_interrupts_and_snapshots(tmp_path):
    """The harness as the timed runs use it, started with SIGINT ignored (as a background shell does): the
    child still gets its KeyboardInterrupt at --max-seconds, and the file it wrote is copied once."""
    model = tmp_path / "model.pt"
    child = ("import time, pathlib\n"
             f"pathlib.Path({str(model)!r}).write_text('weights')\n"
             "print('started', flush=True)\n"
             "t = time.time()\n"
             "try:\n"
             "    while time.time() - t < 20: time.sleep(0.05)\n"  # bounded: a failing harness leaves no orphan
             "    print('never interrupted', flush=True)\n"
             "except KeyboardInterrupt:\n"
             "    print('interrupted', flush=True)\n")
    log = tmp_path / "run.log"
    proc = subprocess.run([sys.executable, str(SCRIPT), "run", "--log", str(log), "--max-seconds", "3.5",
                           "--snapshot", str(model), "--", sys.executable, "-c", child],
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = log.read_text().splitlines()
    stamped = {line.split(None, 1)[1]: float(line.split()[0]) for line in lines}
    assert stamped["started"] < 3.5 <= stamped["interrupted"]
    snaps = list(tmp_path.glob("model.pt.t*"))
    assert len(snaps) == 1 and snaps[0].read_text() == "weights"
    assert any(line.split(None, 1)[1].startswith("# load samples") for line in lines)
