"""`trainer.precision=auto`: train in the fastest float precision the hardware runs natively.

- CPU: bf16 autocast only with AVX512-BF16 or AMX-BF16, and only if oneDNN (which runs the fused LSTM/GRU
  kernels) can build bf16 primitives there. Without them bf16 is emulated: slower than float32 (3.6x fewer
  steps in the same time on an AVX-512 Xeon) and, for the fused LSTM, not built at all on an AVX2-only CPU.
  Otherwise float32. Other CPU architectures (ARM, ...) get float32: their bf16 paths are not measured here.
- CUDA GPU: bf16 autocast from compute capability 8.0 (Ampere) on, fp16 autocast (with loss scaling) below.
- Apple MPS: float32.

A task may state a preference (`task.precision`, e.g. 32-true for one that needs the range); it is taken
only where the hardware runs it natively, otherwise the hardware's choice stands. An explicit
`trainer.precision=...` is the user's and is used as given.
"""
from pathlib import Path

import torch

BF16, FP16, FP32 = "bf16-mixed", "16-mixed", "32-true"
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # the names are the same in torch's cpuinfo and /proc/cpuinfo


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags: torch's cpuinfo capabilities (newer torch), else /proc/cpuinfo (Linux)."""
    caps = getattr(torch.cpu, "get_capabilities", None)
    if caps is not None:
        return {k for k, v in caps().items() if v is True}
    info = Path(cpuinfo)
    for line in info.read_text().splitlines() if info.exists() else ():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_name():
    caps = getattr(torch.cpu, "get_capabilities", None)
    name = caps().get("cpu_name") if caps is not None else None
    return name or "this CPU"


def onednn_bf16():
    """Whether oneDNN can build bf16 kernels on this CPU (true on AVX-512 too, where it emulates them)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_native_bf16(flags=None, onednn=None):
    """(native?, why): bf16 is native on a CPU with AVX512-BF16 or AMX-BF16 whose oneDNN builds bf16 kernels."""
    flags = cpu_flags() if flags is None else set(flags)
    onednn = onednn_bf16() if onednn is None else onednn
    have = [f for f in CPU_BF16_FLAGS if f in flags]
    if not have:
        return False, f"{cpu_name()} has no native bf16 (no {' / '.join(CPU_BF16_FLAGS)})"
    if not onednn:
        return False, f"{cpu_name()} has {'+'.join(have)} but this torch's oneDNN builds no bf16 kernels"
    return True, f"{cpu_name()} has {'+'.join(have)}"


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


def resolve_trainer_precision(cfg):
    """Replace trainer.precision=auto in a composed config by the concrete choice; print and return it as
    {"precision": ..., "why": ...} (what results.json records)."""
    from omegaconf import open_dict
    task = cfg.get("task") or {}
    precision, why = choose_precision(cfg.trainer.get("precision", "auto"), cfg.trainer.get("accelerator", "auto"),
                                      task.get("precision"))
    with open_dict(cfg):
        cfg.trainer.precision = precision
    print(f"precision: {precision} ({why})")
    return {"precision": precision, "why": why}
