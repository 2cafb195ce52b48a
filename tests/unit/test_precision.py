"""trainer.precision=auto: the hardware's native precision, from mocked CPU flags / GPU capabilities, and on
this machine checked against /proc/cpuinfo read independently."""
import json
from pathlib import Path

import pytest
import torch

from rnnsuite.training import precision as P
from tests.conftest import compose

AVX2_ONLY = {"avx", "avx2", "fma3"}
AVX512_NO_BF16 = AVX2_ONLY | {"avx512_f", "avx512_bw", "avx512_vnni"}  # the Xeon that emulates bf16


def not_measured():
    raise AssertionError("bf16 speed measured where the flags decide")


@pytest.mark.parametrize("flags, onednn, speedup, native", [
    (AVX2_ONLY, False, not_measured, False),
    (AVX512_NO_BF16, True, not_measured, False),            # oneDNN builds bf16 there, but emulates it
    (AVX512_NO_BF16 | {"avx512_bf16"}, True, 1.6, True),    # AVX512-BF16 alone: taken where it measures faster
    (AVX512_NO_BF16 | {"avx512_bf16"}, True, 0.6, False),   # ... not where it is slower (a Xeon without AMX)
    (AVX512_NO_BF16 | {"avx512_bf16"}, True, 1.1, False),   # ... nor for a gain under BF16_MIN_SPEEDUP
    (AVX512_NO_BF16 | {"avx512_bf16", "amx_tile", "amx_bf16"}, True, not_measured, True),
    (AVX512_NO_BF16 | {"avx512_bf16"}, False, not_measured, False),  # a torch whose oneDNN builds no bf16 kernels
])
def test_cpu_bf16_only_with_amx_or_a_measured_gain(flags, onednn, speedup, native):
    assert P.cpu_native_bf16(flags, onednn, speedup)[0] is native


def test_the_bf16_speedup_is_measured_once_per_machine_and_survives_a_damaged_cache(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setenv("RNNSUITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(P, "measure_bf16_speedup", lambda: calls.append(1) or 1.75)
    P.bf16_speedup.cache_clear()
    try:
        assert P.bf16_speedup() == 1.75
        P.bf16_speedup.cache_clear()  # a new process: reads the file, does not measure again
        assert P.bf16_speedup() == 1.75 and len(calls) == 1
        (tmp_path / "bf16_speedup.json").write_text('{"half a fi')  # a write cut off by a kill
        P.bf16_speedup.cache_clear()
        assert P.bf16_speedup() == 1.75 and len(calls) == 2
        assert list(json.loads((tmp_path / "bf16_speedup.json").read_text()).values()) == [1.75]
        # no temporary file left: the figures and the lock the processes take turns on
        assert sorted(f.name for f in tmp_path.iterdir()) == ["bf16_speedup.json", "bf16_speedup.json.lock"]
    finally:
        P.bf16_speedup.cache_clear()


def test_cpu_flags_fall_back_to_proc_cpuinfo(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16\nbugs\t: none\n")
    monkeypatch.delattr(torch.cpu, "get_capabilities", raising=False)
    assert {"avx2", "avx512_bf16", "amx_bf16"} <= P.cpu_flags(info)
    assert P.cpu_flags(tmp_path / "missing") == set()


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="needs Linux /proc/cpuinfo")
def test_detection_agrees_with_proc_cpuinfo_on_this_machine():
    line = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("flags"))
    kernel = set(line.split(":", 1)[1].split())
    amx, avx512 = "amx_bf16" in kernel, "avx512_bf16" in kernel
    bf16 = P.onednn_bf16() and (amx or (avx512 and P.bf16_speedup() >= P.BF16_MIN_SPEEDUP))
    assert P.cpu_native_bf16()[0] is bf16
    assert ("avx2" in P.cpu_flags()) is ("avx2" in kernel)
    expected = P.BF16 if bf16 else P.FP32
    assert P.choose_precision("auto", "cpu")[0] == expected


NO_BF16_CPU, BF16_CPU = (False, "mock"), (True, "mock")


@pytest.mark.parametrize("accelerator, preference, hw, expected", [
    ("cpu", None, {"cpu_bf16": NO_BF16_CPU}, "32-true"),
    ("cpu", None, {"cpu_bf16": BF16_CPU}, "bf16-mixed"),
    ("cpu", "bf16-mixed", {"cpu_bf16": NO_BF16_CPU}, "32-true"),   # a task's wish never buys emulation
    ("cpu", "32-true", {"cpu_bf16": BF16_CPU}, "32-true"),         # ... but float32 is always native
    ("cpu", "16-mixed", {"cpu_bf16": BF16_CPU}, "bf16-mixed"),     # fp16 on a CPU: emulated, refused
    ("gpu", None, {"cuda_capability": (7, 5)}, "16-mixed"),        # Turing: fp16 autocast
    ("gpu", "bf16-mixed", {"cuda_capability": (7, 0)}, "16-mixed"),
    ("cuda", None, {"cuda_capability": (8, 0)}, "bf16-mixed"),     # Ampere and later
    ("gpu", "32-true", {"cuda_capability": (9, 0)}, "32-true"),
])
def test_auto_picks_a_native_precision(accelerator, preference, hw, expected):
    assert P.choose_precision("auto", accelerator, preference, **hw)[0] == expected


def test_an_explicit_precision_is_kept():
    assert P.choose_precision("bf16-mixed", "cpu", None, cpu_bf16=NO_BF16_CPU)[0] == "bf16-mixed"


def test_charlm_on_the_gpu_trainer_gets_the_gpus_precision(tmp_path, capsys):
    """The charlm task states a preference; it no longer overrides trainer=gpu's choice."""
    cfg = compose(overrides=["task=charlm", "trainer=gpu"], output_dir=str(tmp_path))
    assert cfg.trainer.precision == "auto"
    assert P.choose_precision(cfg.trainer.precision, cfg.trainer.accelerator, cfg.task.precision,
                              cuda_capability=(7, 5))[0] == "16-mixed"
    cfg = compose(overrides=["task=charlm", "trainer=cpu"], output_dir=str(tmp_path))
    chosen = P.resolve_trainer_precision(cfg)
    assert cfg.trainer.precision == chosen["precision"] == P.choose_precision("auto", "cpu", "bf16-mixed")[0]
    assert f"precision: {chosen['precision']}" in capsys.readouterr().out


def test_measuring_bf16_leaves_the_random_state_alone(monkeypatch):
    if not P.onednn_bf16():  # an AVX2-only CPU builds no bf16 LSTM: time the float32 step twice, which draws alike
        real = P.time_lstm_step
        monkeypatch.setattr(P, "time_lstm_step", lambda bf16, repeats=5: real(False, repeats))
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    P.measure_bf16_speedup(rounds=1)
    assert torch.equal(torch.rand(4), expected)


def test_processes_starting_together_measure_once(tmp_path):
    """Two runs started at once (a sweep's workers) must not each measure and record different figures."""
    import os
    import subprocess
    import sys
    code = ("import time; from rnnsuite.training import precision as P\n"
            "def slow():\n    open(P.cache_dir() / f'measured.{__import__(\"os\").getpid()}', 'w').close()\n"
            "    time.sleep(1.0)\n    return float(__import__('os').getpid())\n"
            "P.measure_bf16_speedup = slow\nprint(P.bf16_speedup())")
    env = {**os.environ, "RNNSUITE_CACHE_DIR": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0] == outs[1]  # the same figure in both: the second read the first's
    assert len(list(tmp_path.glob("measured.*"))) == 1
