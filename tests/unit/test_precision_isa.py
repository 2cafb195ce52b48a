"""The precision choice under each x86 CPU kind, on whatever CPU runs the tests: oneDNN's ISA cap
(ONEDNN_MAX_CPU_ISA) makes this CPU act as an older one, in a subprocess per cap. A cap above what the CPU has
cannot be emulated and is skipped, saying so; an AVX-512 machine so proves the AVX2 path too.

The kinds and what `precision=auto` must pick there (from the module's rules, not from its code):
- SSE4.1, AVX2 (no AVX-512): float32, nothing measured; an explicit bf16 is refused where oneDNN builds no bf16 LSTM
- AVX512_CORE (AVX-512, no AVX512-BF16): float32 (bf16 would be emulated), nothing measured
- AVX512_CORE_BF16 (no AMX): measured once; bf16 only at >= BF16_MIN_SPEEDUP
- AVX512_CORE_AMX: bf16, nothing measured
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnsuite.training.precision import BF16_MIN_SPEEDUP

CAPS = ("SSE41", "AVX2", "AVX512_CORE", "AVX512_CORE_BF16", "AVX512_CORE_AMX")
NEEDS = {"SSE41": {"sse4_1"}, "AVX2": {"avx2"}, "AVX512_CORE": {"avx512f", "avx512bw", "avx512vl", "avx512dq"},
         "AVX512_CORE_BF16": {"avx512_bf16"}, "AVX512_CORE_AMX": {"amx_bf16"}}


def kernel_flags():
    info = Path("/proc/cpuinfo")
    line = next((x for x in info.read_text().splitlines() if x.startswith("flags")), "") if info.exists() else ""
    return set(line.split(":", 1)[1].split()) if line else set()


def can_emulate(cap):
    """A cap can be taken when the CPU has its flags and every older kind's."""
    flags = kernel_flags()
    return all(NEEDS[c] <= flags for c in CAPS[:CAPS.index(cap) + 1])


PROBE = """
import json, torch
from rnnsuite.training import precision as P
try:  # independent of the module: does a bf16 LSTM step build under this cap?
    with torch.autocast("cpu", torch.bfloat16):
        out, _ = torch.nn.LSTM(4, 8)(torch.zeros(2, 1, 4))
    out.float().sum().backward()
    lstm_bf16 = True
except RuntimeError:
    lstm_bf16 = False
measured = []
picks = {}
for figure in (1.6, 0.6):
    P.measure_bf16_speedup = lambda figure=figure: measured.append(figure) or figure
    P.bf16_speedup.cache_clear()
    (P.cache_dir() / "bf16_speedup.json").unlink(missing_ok=True)
    picks[str(figure)] = P.choose_precision("auto", "cpu")[0]
try:
    P.check_runnable("bf16-mixed", "cpu")
    explicit = None
except P.UserError as e:
    explicit = str(e)
print(json.dumps({"flags": sorted(P.cpu_flags()), "lstm_bf16": lstm_bf16, "picks": picks, "measured": measured,
                  "explicit_bf16_error": explicit}))
"""


def run_capped(cap, tmp_path, code=PROBE, args=()):
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": cap, "RNNSUITE_CACHE_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("cap", CAPS)
def test_auto_under_each_cpu_kind(cap, tmp_path):
    if not can_emulate(cap):
        pytest.skip(f"this CPU has no {'/'.join(sorted(NEEDS[cap]))}: the {cap} kind cannot be emulated here")
    proc = run_capped(cap, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    level = CAPS.index(cap)
    # what the capped CPU shows: nothing above the cap
    assert not any(f.startswith("amx") for f in got["flags"]) or level >= CAPS.index("AVX512_CORE_AMX")
    assert ("avx512_bf16" in got["flags"]) is (level >= CAPS.index("AVX512_CORE_BF16"))
    assert any(f.startswith("avx512") for f in got["flags"]) is (level >= CAPS.index("AVX512_CORE"))
    if cap == "AVX512_CORE_BF16":  # the measured path: taken at 1.6x, declined at 0.6x, measured each time
        assert got["picks"] == {"1.6": "bf16-mixed", "0.6": "32-true"} and got["measured"] == [1.6, 0.6]
        assert 0.6 < BF16_MIN_SPEEDUP <= 1.6
    elif cap == "AVX512_CORE_AMX":
        assert set(got["picks"].values()) == {"bf16-mixed"} and got["measured"] == []
    else:  # no native bf16: float32, and no time spent measuring
        assert set(got["picks"].values()) == {"32-true"} and got["measured"] == []
    # an explicit bf16 is refused exactly where oneDNN cannot build the bf16 LSTM
    assert (got["explicit_bf16_error"] is not None) is (not got["lstm_bf16"]), got
    if got["explicit_bf16_error"]:
        assert "trainer.precision=auto" in got["explicit_bf16_error"]


def test_bf16_asked_for_where_it_cannot_run_is_one_error_line_and_writes_nothing(tmp_path):
    """rnn-train with trainer.precision=bf16-mixed on a CPU acting as AVX2-only (on an AVX2 CPU, that is itself)."""
    run = tmp_path / "run"
    rnn_train = Path(sys.executable).parent / "rnn-train"
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "RNNSUITE_CACHE_DIR": str(tmp_path / "cache"),
           "RNNSUITE_DATA_DIR": str(tmp_path / "data")}
    lstm = run_capped("AVX2", tmp_path, PROBE)
    assert lstm.returncode == 0, lstm.stderr[-2000:]
    if json.loads(lstm.stdout.strip().splitlines()[-1])["lstm_bf16"]:
        pytest.skip("this CPU's oneDNN builds a bf16 LSTM even under the AVX2 cap: nothing to refuse")
    proc = subprocess.run([str(rnn_train), "task=charlm", "data=charlm_fixture", "trainer.precision=bf16-mixed",
                           "logger=csv", "callbacks=quiet", "trainer.max_epochs=1", f"hydra.run.dir={run}"],
                          env=env, capture_output=True, text=True, timeout=300)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "bf16" in errors[0] and "trainer.precision=32-true" in errors[0]
    written = [p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()] if run.exists() else []
    # Hydra's own record of the call (.hydra/, its job log) only: no config.yaml, checkpoint or results
    assert not [p for p in written if not (p.startswith(".hydra/") or p == "train.log")], written
