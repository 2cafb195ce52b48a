"""Hostile input, one matrix over every task and every entry point (rnn-train, rnn-eval, rnn-predict, rnn-data).

Each row runs the console script's own `main()` in this process (Hydra and all, as a user's command would)
with one bad input, and checks what the user gets: exit code 2, exactly one `error: ...` line on stderr that
names the file, line or key at fault, no traceback, and no output file (nor a leftover temporary one). The
checkpoints the rows need are the session's shared fixture runs (`fixture_run`), so the matrix trains nothing.

The rows are built from `CASES` below; `ids` read `entry-task-case`.
"""
import io
import json
import struct
import sys
import zlib
from pathlib import Path

import pytest
import torch

from rnnsuite.registry import all_tasks
from tests.conftest import BUILT_IN

TASKS = list(all_tasks())
QUIET = ["hydra/job_logging=disabled", "hydra/hydra_logging=disabled"]


# ---------------------------------------------------------------------------------------- the bad files
def png_header(width, height):
    """A PNG that declares width x height pixels and holds none: a decompression bomb's header."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


class Payload:
    """Unpickling this runs code (it writes a file): what a malicious checkpoint carries."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.write_text, (Path(self.marker), "the payload ran")


CSV_HEAD = "time,Demand,Temperature,WorkDay\n"


def series_rows(n=400, start=0):
    return "".join(f"2024-01-{1 + (i // 48):02d} {(i % 48) // 2:02d}:{30 * (i % 2):02d},{4 + 0.1 * (i % 7)},"
                   f"{18 + (i % 5)},1\n" for i in range(start, start + n))


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """A folder of bad files, by name."""
    d = tmp_path_factory.mktemp("hostile")
    rows = series_rows().splitlines(keepends=True)
    files = {
        "malformed.csv": CSV_HEAD + "".join(rows[:10]) + "2024-01-01 05:00,4.1,18,1,7,7\n" + "".join(rows[11:]),
        "truncated.csv": CSV_HEAD + "".join(rows[:200]) + rows[200][:20],
        "empty.csv": "",
        "header_only.csv": CSV_HEAD,
        "nan.csv": CSV_HEAD + "".join(rows[:50]) + rows[50].split(",")[0] + ",NaN,18,1\n" + "".join(rows[51:]),
        "inf.csv": CSV_HEAD + "".join(rows[:60]) + rows[60].split(",")[0] + ",inf,18,1\n" + "".join(rows[61:]),
        "neginf.csv": CSV_HEAD + "".join(rows[:70]) + rows[70].split(",")[0] + ",-inf,18,1\n" + "".join(rows[71:]),
        "gap.csv": CSV_HEAD + "".join(rows[:100]) + "".join(rows[103:]),
        "empty.txt": "",
        "blank_lines.txt": "\n  \n\n",
        "long_line.txt": "word " * 200_000 + "\n",
        "notimage.png": "this is text, not a picture\n",
        "zero.png": "",
        "zero.ckpt": "",
        "text.ckpt": "not a checkpoint at all\n",
        "blank.mid": "",
        "notmidi.mid": "MThd but not really\n",
    }
    for name, text in files.items():
        (d / name).write_text(text, encoding="utf-8")
    (d / "latin1.csv").write_bytes((CSV_HEAD + "".join(rows[:5]) + "2024-01-01 02:30,4.1,18°,1\n")
                                   .encode("latin-1"))
    (d / "latin1.txt").write_bytes("caf\xe9 cr\xe8me br\xfbl\xe9e\n".encode("latin-1"))
    (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 40)
    (d / "bomb.png").write_bytes(png_header(40_000, 40_000))
    from PIL import Image
    Image.new("L", (20, 20)).save(d / "ok.png")
    # checkpoints: a foreign torch file, a truncated one, and one per task of each kind
    torch.save({"weights": torch.zeros(3)}, d / "foreign.ckpt")
    buf = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(1000)}, "rnnsuite": {"task": "sentiment", "format": 2}}, buf)
    (d / "truncated.ckpt").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (d / "marker_module").mkdir()
    (d / "marker_module" / "hostile_marker.py").write_text(
        f"open({str(d / 'imported')!r}, 'w').write('imported')\nclass Model: pass\n")
    for task in TASKS:
        other = "sentiment" if task != "sentiment" else "forecasting"
        torch.save({"rnnsuite": {"task": other, "format": 2, "class": f"rnnsuite.tasks.{other}.model.X"},
                    "state_dict": {}}, d / f"other_task_{task}.ckpt")
        torch.save({"rnnsuite": {"task": task, "format": 2, "class": "hostile_marker.Model"}, "state_dict": {}},
                   d / f"outside_class_{task}.ckpt")
        torch.save({"rnnsuite": {"task": task, "format": 2, "class": f"{all_tasks()[task].package}.model.X"},
                    "state_dict": {}, "hyper_parameters": Payload(d / "payload_ran")}, d / f"malicious_{task}.ckpt")
    return d


# ---------------------------------------------------------------------------------------- the matrix
# (case, the overrides ({bad}: the bad files, {ckpt}: the task's fixture checkpoint, {out}: an output path that
# must not appear), what the error line must say). {task} is the task's name.
CHECKPOINT_CASES = [
    ("ckpt_zero_bytes", "{bad}/zero.ckpt", "zero.ckpt is an empty file (0 bytes)"),
    ("ckpt_not_a_checkpoint", "{bad}/text.ckpt", "cannot read checkpoint {bad}/text.ckpt"),
    ("ckpt_truncated", "{bad}/truncated.ckpt", "cannot read checkpoint {bad}/truncated.ckpt (truncated"),
    ("ckpt_foreign", "{bad}/foreign.ckpt", "foreign.ckpt is not an rnnsuite checkpoint"),
    ("ckpt_other_task", "{bad}/other_task_{task}.ckpt", "is from task"),
    ("ckpt_class_outside_task", "{bad}/outside_class_{task}.ckpt", "'hostile_marker.Model', which is not in the"),
    ("ckpt_malicious_pickle", "{bad}/malicious_{task}.ckpt", "refused unread"),
    ("ckpt_missing", "{bad}/nowhere.ckpt", "checkpoint not found: {bad}/nowhere.ckpt"),
]
CONFIG_CASES = {  # entry -> cases every task gets
    "train": [
        ("unknown_key", ["model.hidden_sise=8"], "unknown config key 'model.hidden_sise'"),
        ("unknown_key_added", ["+model.colour=red"], "unexpected keyword argument 'colour'"),
        ("unknown_option", ["cell=lstn"], "no config 'cell/lstn'"),
        ("negative_size", ["model.hidden_size=-3"], "model.hidden_size must be a whole number >= 1, got -3"),
        ("dropout_above_1", ["++model.dropout=1.5"], "model.dropout must be in [0, 1), got 1.5"),
        ("negative_batch", ["++data.batch_size=-1"], "data.batch_size must be a whole number >= 1, got -1"),
    ],
    "eval": [("unknown_key", ["ckpt={ckpt}", "beem=3"], "unknown config key 'beem'"),
             ("unparsable", ["ckpt={ckpt}", "data.seed=[1"], "cannot parse the override 'data.seed=[1'")],
    "predict": [("unknown_key", ["ckpt={ckpt}", "lenght=5"], "unknown config key 'lenght'")],
}
# task -> entry -> [(case, overrides, expected)]: the inputs each task reads
TASK_CASES = {
    "forecasting": {
        "predict": [(f"csv_{name}", [f"csv={{bad}}/{name}.csv", "out={out}/forecast.csv"], expect) for name, expect in [
            ("malformed", "cannot read {bad}/malformed.csv as CSV"),
            ("truncated", "truncated.csv line 202: column 'Temperature' has 1 missing"),
            ("empty", "cannot read {bad}/empty.csv as CSV"),
            ("header_only", "header_only.csv has no rows"),
            ("nan", "nan.csv line 52: column 'Demand' has 1 missing or infinite value"),
            ("inf", "inf.csv line 62: column 'Demand' has 1 missing or infinite value"),
            ("neginf", "neginf.csv line 72: column 'Demand' has 1 missing or infinite value"),
            ("latin1", "cannot read {bad}/latin1.csv as CSV"),
            ("gap", "gap.csv line 102: gap in the time index"),
        ]] + [("csv_missing", ["csv={bad}/nowhere.csv"], "CSV file not found: {bad}/nowhere.csv")],
        "train": [(f"csv_{name}", ["data=csv", f"data.path={{bad}}/{name}.csv", "data.target=Demand"], expect)
                  for name, expect in [
            ("malformed", "cannot read {bad}/malformed.csv as CSV"),
            ("empty", "cannot read {bad}/empty.csv as CSV"),
            ("header_only", "header_only.csv has no rows"),
            ("nan", "nan.csv line 52: column 'Demand' has 1 missing or infinite value"),
            ("inf", "inf.csv line 62: column 'Demand' has 1 missing or infinite value"),
            ("latin1", "cannot read {bad}/latin1.csv as CSV"),
            ("gap", "gap.csv line 102: gap in the time index"),
        ]] + [("lookback_zero", ["data.lookback=0"], "data.lookback must be a whole number >= 1, got 0"),
              ("horizon_negative", ["data.horizon=-2"], "data.horizon must be a whole number >= 1, got -2")],
        "eval": [("csv_inf", ["ckpt={ckpt}", "data.source=csv", "data.path={bad}/inf.csv", "out={out}/eval.json"],
                  "inf.csv line 62: column 'Demand'")],
    },
    "sentiment": {
        "predict": [("empty_text", ["text=''"], "empty text"),
                    ("file_blank_lines", ["file={bad}/blank_lines.txt"], "blank_lines.txt has no non-empty lines"),
                    ("file_empty", ["file={bad}/empty.txt"], "empty.txt has no non-empty lines"),
                    ("file_not_utf8", ["file={bad}/latin1.txt"], "latin1.txt is not UTF-8 text"),
                    ("file_1mb_line", ["file={bad}/long_line.txt"], "long_line.txt line 1 is 1,000,000 characters"),
                    ("unknown_tokens", ["text='zzqx blorfen'"], "has no word or character the model saw"),
                    ("file_missing", ["file={bad}/nowhere.txt"], "input file not found: {bad}/nowhere.txt")],
    },
    "translation": {
        "predict": [("empty_text", ["text=''"], "empty text"),
                    ("file_not_utf8", ["file={bad}/latin1.txt"], "latin1.txt is not UTF-8 text"),
                    ("file_1mb_line", ["file={bad}/long_line.txt"], "long_line.txt line 1 is 1,000,000 characters"),
                    ("unknown_tokens", ["text='ЖЖЖ'"], "has no word or character the model saw"),
                    ("beam_zero", ["text='3 de marzo de 2021'", "beam_size=0"], "beam_size must be >= 1, got 0")],
        "train": [("tsv_not_utf8", ["data=parallel", "data.path={bad}/latin1.txt"],
                   "cannot read {bad}/latin1.txt as a TSV"),
                  ("tsv_empty", ["data=parallel", "data.path={bad}/empty.txt"],
                   "cannot read {bad}/empty.txt as a TSV")],
    },
    "synthetic": {
        "predict": [("nan_value", ["text='0.3 nan* 0.5 0.1*'"], "'nan*' is not a finite number"),
                    ("inf_value", ["text='0.3 inf* 0.5 0.1*'"], "'inf*' is not a finite number"),
                    ("neginf_value", ["text='0.3 -inf 0.5* 0.1*'"], "'-inf' is not a finite number"),
                    ("unknown_token", ["text='0.3 abc 0.5* 0.1*'"], "'abc' is not a finite number"),
                    ("empty_text", ["text=''"], "empty text"),
                    ("file_not_utf8", ["file={bad}/latin1.txt"], "latin1.txt is not UTF-8 text")],
        "train": [("seq_len_negative", ["data.seq_len=-4"], "data.seq_len must be a whole number >= 1, got -4")],
    },
    "charlm": {
        "predict": [("unbounded_length", ["length=1000000000", "out={out}/sample.txt"],
                     "length must be at most 100,000 characters"),
                    ("negative_length", ["length=-1", "out={out}/sample.txt"], "length must be a positive number"),
                    ("unknown_characters", ["prime='ROMEO: ☃'", "out={out}/sample.txt"],
                     "the prime has characters the model never saw"),
                    ("prime_not_utf8", ["file={bad}/latin1.txt", "out={out}/sample.txt"],
                     "latin1.txt is not UTF-8 text"),
                    ("prime_1mb", ["file={bad}/long_line.txt", "out={out}/sample.txt"],
                     "is 1,000,001 characters long"),
                    ("top_k_zero", ["top_k=0", "out={out}/sample.txt"], "top_k must be >= 1, got 0")],
        "train": [("text_not_utf8", ["data=text", "data.path={bad}/latin1.txt"], "latin1.txt is not UTF-8 text"),
                  ("text_empty", ["data=text", "data.path={bad}/empty.txt"], "empty.txt is empty"),
                  ("bptt_negative", ["data.k1=-8"], "data.k1 must be a whole number >= 1, got -8")],
    },
    "music": {
        "predict": [("unbounded_length", ["length=1000000000", "out={out}/gen"], "length must be at most 100,000"),
                    ("zero_length", ["length=0", "out={out}/gen"], "length must be a positive number"),
                    ("midi_empty", ["file={bad}/blank.mid", "out={out}/gen"], "cannot read {bad}/blank.mid"),
                    ("midi_corrupt", ["file={bad}/notmidi.mid", "out={out}/gen"], "cannot read {bad}/notmidi.mid")],
    },
    "captioning": {
        "predict": [("image_zero_bytes", ["image={bad}/zero.png"], "zero.png is an empty file (0 bytes)"),
                    ("image_corrupt", ["image={bad}/corrupt.png"], "corrupt.png is corrupt or truncated"),
                    ("image_not_an_image", ["image={bad}/notimage.png"], "notimage.png is not an image file"),
                    ("image_decompression_bomb", ["image={bad}/bomb.png"], "bomb.png is too large to decode"),
                    ("image_missing", ["image={bad}/nowhere.png"], "image not found: {bad}/nowhere.png"),
                    ("beam_zero", ["image={bad}/ok.png", "beam_size=0"], "beam_size must be >= 1, got 0")],
    },
}
DATA_CASES = [  # rnn-data: argv, expected
    ("unknown_dataset", ["fetch", "no_such_data"], "unknown dataset 'no_such_data'"),
    ("unknown_command", ["fetsh", "shakespeare"], "invalid choice: 'fetsh'"),
    ("missing_name", ["prepare"], "the following arguments are required: name"),
]


def rows():
    out = []
    for task in BUILT_IN:
        group = pytest.mark.xdist_group(task)
        for entry, key in (("train", "resume"), ("eval", "ckpt"), ("predict", "ckpt")):
            for case, path, expect in CHECKPOINT_CASES:
                out.append(pytest.param(entry, task, [f"{key}={path}"], expect, id=f"{entry}-{task}-{case}",
                                        marks=group))
        for entry, cases in CONFIG_CASES.items():
            for case, overrides, expect in cases:
                out.append(pytest.param(entry, task, overrides, expect, id=f"{entry}-{task}-{case}", marks=group))
        for entry, cases in TASK_CASES.get(task, {}).items():
            for case, overrides, expect in cases:
                if entry == "predict" and not any(o.startswith("ckpt=") for o in overrides):
                    overrides = ["ckpt={ckpt}", *overrides]
                out.append(pytest.param(entry, task, overrides, expect, id=f"{entry}-{task}-{case}", marks=group))
    for case, argv, expect in DATA_CASES:
        out.append(pytest.param("data", None, argv, expect, id=f"data-{case}"))
    return out


def run_entry(entry, argv, capsys, monkeypatch):
    """(exit code, stdout, stderr) of a console script's main() run in this process on argv."""
    from rnnsuite.cli import data, evaluate, predict, train
    capsys.readouterr()
    code = 0
    try:
        if entry == "data":
            code = data.main(argv)
        else:
            monkeypatch.setattr(sys, "argv", [f"rnn-{entry}", *argv])
            {"train": train, "eval": evaluate, "predict": predict}[entry].main()
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("entry,task,overrides,expect", rows())
def test_bad_input_gets_one_clear_line(entry, task, overrides, expect, bad, tmp_path, capsys, monkeypatch,
                                       fixture_run, fixture_data_dir):
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    monkeypatch.syspath_prepend(str(bad / "marker_module"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    fill = {"bad": bad, "out": out_dir, "task": task}
    if any("{ckpt}" in o for o in overrides):
        fill["ckpt"] = fixture_run(task) / "checkpoints" / "best.ckpt"
    args = [o.format(**fill) for o in overrides]
    if entry != "data":  # the task's fixture, less what the case sets itself
        keys = {a.lstrip("+").split("=")[0] for a in args}
        fixture = [o for o in all_tasks()[task].fixture if o.split("=")[0] not in keys
                   and not ("data" in keys and o.startswith("data.")) and (entry == "train" or o.startswith("data"))]
        run = tmp_path / "run"
        args = [f"task={task}", *fixture, *args, "logger=csv", "callbacks=quiet", "trainer.max_epochs=1",
                f"hydra.run.dir={run}", *QUIET] if entry == "train" else \
            [f"task={task}", *args, f"hydra.run.dir={run}", *QUIET]
    code, stdout, stderr = run_entry(entry, args, capsys, monkeypatch)

    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    print(*errors, sep="\n")  # what the user sees (pytest -rA shows it)
    assert code == 2, f"exit code {code}; stderr:\n{stderr[-3000:]}"
    assert len(errors) == 1, f"one error line, got:\n{stderr[-3000:]}"
    assert expect.format(**fill) in errors[0], errors[0]
    assert "Traceback" not in stderr and "error:" not in stdout
    assert not (bad / "imported").exists() and "hostile_marker" not in sys.modules, "a checkpoint's class imported"
    assert not (bad / "payload_ran").exists(), "a checkpoint's pickle payload ran"
    assert not list(out_dir.iterdir()), "no output file, not even a temporary one"
    if entry == "train":
        assert not (tmp_path / "run" / "results.json").exists()
        assert not list((tmp_path / "run").rglob("*.part"))


def test_matrix_covers_every_task_and_entry_point():
    ids = [p.id for p in rows()]
    for task in BUILT_IN:
        for entry in ("train", "eval", "predict"):
            assert any(i.startswith(f"{entry}-{task}-") for i in ids), (entry, task)
    assert any(i.startswith("data-") for i in ids)
    assert set(BUILT_IN) <= set(TASKS)


def test_results_json_of_the_matrix_is_written_nowhere(tmp_path):
    """The helper every writer uses leaves nothing behind when the writing fails half-way."""
    from rnnsuite.atomic import atomic_path
    target = tmp_path / "results.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text(json.dumps({"half": 1})[:5])
        raise RuntimeError("killed while writing")
    assert list(tmp_path.iterdir()) == []
