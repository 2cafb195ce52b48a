"""`trainer.precision=auto`: train in the fastest float precision the hardware runs natively.

- CPU: bf16 autocast only where it is faster than float32, and only if oneDNN (which runs the fused LSTM/GRU
  kernels) can build bf16 primitives there:
  - AMX-BF16: bf16 (the fused cells ran 1.2-3.0x faster than in float32 on a Xeon with AMX);
  - AVX512-BF16 without AMX: measured. Whether bf16 pays there depends on the chip and on torch's kernels: on
    a Xeon with AVX512-BF16 but no AMX, bf16 matmuls ran at 0.55x float32 and the fused cells at 0.57-0.80x.
    So `bf16_speedup` times a small LSTM training step in both precisions, once per machine (cached), and
    bf16 is taken only if it is at least BF16_MIN_SPEEDUP times as fast;
  - neither: bf16 is emulated, slower than float32 (3.6x fewer steps in the same time on an AVX-512 Xeon) and,
    for the fused LSTM, not built at all on an AVX2-only CPU. Float32.
  Other CPU architectures (ARM, ...) get float32: their bf16 paths are not measured here.
- CUDA GPU: bf16 autocast from compute capability 8.0 (Ampere) on, fp16 autocast (with loss scaling) below.
- Apple MPS: float32.

A task may state a preference (`task.precision`, e.g. 32-true for one that needs the range); it is taken
only where the hardware runs it natively, otherwise the hardware's choice stands. An explicit
`trainer.precision=...` is the user's and is used as given, except bf16 on a CPU where oneDNN cannot build bf16
kernels at all (its fused LSTM fails there): that is a `UserError` before anything is written.

oneDNN can be told to act as an older CPU (`ONEDNN_MAX_CPU_ISA=AVX2`, `AVX512_CORE`, `AVX512_CORE_BF16`, ...).
The CPU's flags are read through that cap (`cpu_flags`), so every choice here is the one a CPU of the capped kind
would make; tests/unit/test_precision_isa.py runs the choice under each cap the machine can take.
"""
import json
import os
import statistics
import time
from functools import lru_cache
from pathlib import Path

import torch

from ..atomic import write_text
from ..inputs import UserError

try:
    import fcntl
except ImportError:  # Windows: no lock, each process that starts before the cache exists measures
    fcntl = None

BF16, FP16, FP32 = "bf16-mixed", "16-mixed", "32-true"
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # the names are the same in torch's cpuinfo and /proc/cpuinfo
BF16_MIN_SPEEDUP = 1.2  # bf16 costs some accuracy: it must buy a clear gain in speed


# oneDNN's ISA caps, oldest first (ONEDNN_MAX_CPU_ISA): each allows the flags of the ones before it
ISA_LEVELS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI",
              "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16")


def isa_cap():
    """The ISA cap oneDNN was given (ONEDNN_MAX_CPU_ISA, or its old name DNNL_MAX_CPU_ISA), or None."""
    cap = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "").strip().upper()
    return cap if cap in ISA_LEVELS else None  # ALL, DEFAULT or unset: no cap


def allowed_by_cap(flag, cap):
    """Whether a CPU flag stays visible under oneDNN's ISA cap (AVX-512 from AVX512_CORE on, AVX512-BF16 from
    AVX512_CORE_BF16, AMX from AVX512_CORE_AMX, AVX2 from AVX2)."""
    if cap is None:
        return True
    level = ISA_LEVELS.index(cap)
    for prefix, needs in (("amx", "AVX512_CORE_AMX"), ("avx512_bf16", "AVX512_CORE_BF16"),
                          ("avx512", "AVX512_CORE"), ("avx_vnni", "AVX2_VNNI"), ("avx2", "AVX2"), ("fma", "AVX2"),
                          ("avx", "AVX")):
        if flag.startswith(prefix):
            return level >= ISA_LEVELS.index(needs)
    return True


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags, as oneDNN's ISA cap lets it see them: torch's cpuinfo capabilities (newer
    torch), else /proc/cpuinfo (Linux)."""
    caps = getattr(torch.cpu, "get_capabilities", None)
    flags = set()
    if caps is not None:
        flags = {k for k, v in caps().items() if v is True}
    else:
        info = Path(cpuinfo)
        for line in info.read_text().splitlines() if info.exists() else ():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    cap = isa_cap()
    return {f for f in flags if allowed_by_cap(f, cap)}


def cpu_name():
    caps = getattr(torch.cpu, "get_capabilities", None)
    name = caps().get("cpu_name") if caps is not None else None
    return name or "this CPU"


@lru_cache(maxsize=None)
def onednn_bf16():
    """Whether oneDNN builds bf16 kernels on this CPU (under its ISA cap): true on AVX-512, where it emulates them
    without AVX512-BF16; false on an AVX2-only CPU, where it cannot build a bf16 LSTM. Torch's own check is asked
    first, then a tiny bf16 LSTM step is built, since that is the kernel a run would fail on."""
    try:
        if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
            return False
        with torch.random.fork_rng(devices=[]):
            lstm = torch.nn.LSTM(4, 8)
            with torch.autocast("cpu", torch.bfloat16):
                out, _ = lstm(torch.zeros(2, 1, 4))
            out.float().sum().backward()
        return True
    except (AttributeError, RuntimeError):
        return False


def cache_dir():
    """Where measured facts about this machine are kept: RNNSUITE_CACHE_DIR, else XDG_CACHE_HOME/rnnsuite."""
    if os.environ.get("RNNSUITE_CACHE_DIR"):
        return Path(os.environ["RNNSUITE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnnsuite"


def time_lstm_step(bf16, repeats=5):
    """Median seconds of one training step (forward, backward) of a small fused LSTM, float32 or bf16 autocast."""
    gen = torch.Generator().manual_seed(0)
    lstm = torch.nn.LSTM(64, 256, batch_first=True)
    x = torch.randn(32, 32, 64, generator=gen)
    times = []
    for i in range(repeats + 2):  # two warm-up steps: oneDNN builds its kernels on the first
        start = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            out, _ = lstm(x)
        out.float().square().mean().backward()
        lstm.zero_grad(set_to_none=True)
        if i >= 2:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_bf16_speedup(rounds=3):
    """float32 time / bf16 time of a small LSTM training step, the median of `rounds` interleaved pairs. The
    global random state is left as it was (a run seeded before this must not depend on whether it measured)."""
    with torch.random.fork_rng(devices=[]):
        return statistics.median(time_lstm_step(False) / time_lstm_step(True) for _ in range(rounds))


def read_cache(path):
    try:
        known = json.loads(path.read_text())
        return known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: measure again


@lru_cache(maxsize=None)
def bf16_speedup():
    """This machine's bf16 speed-up over float32 (a fused LSTM step), measured once and kept in cache_dir(),
    keyed by CPU, flags, threads and torch version, so that every run on the machine makes the same choice.
    Processes that start together (a sweep's workers, DDP ranks) take turns under a file lock: the first
    measures, the others read its figure."""
    key = f"{cpu_name()}|{','.join(sorted(cpu_flags()))}|threads={torch.get_num_threads()}|torch={torch.__version__}"
    path = cache_dir() / "bf16_speedup.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(path.name + ".lock"), "a")
    except OSError:
        lock = None  # a read-only home: measured by each run
    try:
        if lock is not None and fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        known = read_cache(path)
        if not isinstance(known.get(key), (int, float)):
            known[key] = round(measure_bf16_speedup(), 3)
            try:
                write_text(path, json.dumps(known, indent=1))
            except OSError:
                pass
        return known[key]
    finally:
        if lock is not None:
            lock.close()  # releases the lock


def cpu_native_bf16(flags=None, onednn=None, speedup=None):
    """(native?, why): bf16 pays on a CPU with AMX-BF16, or with AVX512-BF16 where it measures at least
    BF16_MIN_SPEEDUP times as fast as float32, if oneDNN builds bf16 kernels there. `speedup` (a number or a
    function) stands in for the measurement in tests."""
    flags = cpu_flags() if flags is None else set(flags)
    onednn = onednn_bf16() if onednn is None else onednn
    have = [f for f in CPU_BF16_FLAGS if f in flags]
    if not have:
        return False, f"{cpu_name()} has no native bf16 (no {' / '.join(CPU_BF16_FLAGS)})"
    if not onednn:
        return False, f"{cpu_name()} has {'+'.join(have)} but this torch's oneDNN builds no bf16 kernels"
    if "amx_bf16" in have:
        return True, f"{cpu_name()} has {'+'.join(have)}"
    speedup = bf16_speedup if speedup is None else speedup
    gain = speedup() if callable(speedup) else speedup
    faster = gain >= BF16_MIN_SPEEDUP
    return faster, (f"{cpu_name()} has avx512_bf16 but no AMX; a bf16 LSTM step measured {gain:.2f}x float32's "
                    f"speed here ({'at least' if faster else 'under'} {BF16_MIN_SPEEDUP}x)")


def device_kind(accelerator):
    """'cuda', 'mps' or 'cpu' for a Trainer's accelerator setting ('auto' follows Lightning's order)."""
    acc = str(accelerator or "auto").lower()
    if acc in ("gpu", "cuda") or (acc == "auto" and torch.cuda.is_available()):
        return "cuda"
    if acc == "mps" or (acc == "auto" and getattr(torch.backends, "mps", None) is not None
                        and torch.backends.mps.is_available()):
        return "mps"
    return "cpu"


def native_precisions(kind, cpu_bf16=None, cuda_capability=None):
    """(precisions the device runs natively, fastest first; why)."""
    if kind == "cuda":
        major = (cuda_capability or torch.cuda.get_device_capability())[0]
        if major >= 8:
            return [BF16, FP16, FP32], f"GPU compute capability {major}.x does bf16"
        return [FP16, FP32], f"GPU compute capability {major}.x: no bf16 (needs 8.0+), fp16 autocast"
    if kind == "mps":
        return [FP32], "Apple MPS: float32"
    native, why = cpu_native_bf16() if cpu_bf16 is None else cpu_bf16
    return ([BF16, FP32] if native else [FP32]), why


def choose_precision(requested="auto", accelerator="auto", preference=None, **hardware):
    """(precision for the Trainer, one line saying why). `hardware` (cpu_bf16=(bool, why), cuda_capability=
    (major, minor)) overrides the detection, for tests and for what-if questions."""
    if str(requested) != "auto":
        return str(requested), "set by trainer.precision"
    kind = device_kind(accelerator)
    native, why = native_precisions(kind, **hardware)
    if preference and str(preference) in native:
        return str(preference), f"auto on {kind}: the task prefers it; {why}"
    if preference:
        return native[0], f"auto on {kind}: the task prefers {preference}, not native here; {why}"
    return native[0], f"auto on {kind}: {why}"


def check_runnable(precision, accelerator="auto"):
    """A `UserError` for bf16 asked for on a CPU where oneDNN cannot build bf16 kernels (an AVX2-only CPU: the
    fused LSTM would fail deep inside torch at the first step)."""
    if str(precision).startswith("bf16") and device_kind(accelerator) == "cpu" and not onednn_bf16():
        cap = f" under ONEDNN_MAX_CPU_ISA={isa_cap()}" if isa_cap() else ""
        raise UserError(f"trainer.precision={precision}: oneDNN cannot build bf16 kernels on {cpu_name()}{cap} "
                        "(it needs AVX-512); use trainer.precision=auto (float32 here) or trainer.precision=32-true")


def resolve_trainer_precision(cfg):
    """Replace trainer.precision=auto in a composed config by the concrete choice; print and return it as
    {"precision": ..., "why": ...} (what results.json records). bf16 where it cannot run is a `UserError`."""
    from omegaconf import open_dict
    task = cfg.get("task") or {}
    precision, why = choose_precision(cfg.trainer.get("precision", "auto"), cfg.trainer.get("accelerator", "auto"),
                                      task.get("precision"))
    check_runnable(precision, cfg.trainer.get("accelerator", "auto"))
    with open_dict(cfg):
        cfg.trainer.precision = precision
    print(f"precision: {precision} ({why})")
    return {"precision": precision, "why": why}
