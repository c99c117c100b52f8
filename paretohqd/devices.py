"""Resolve the configured device and dtype into torch objects.

``dtype: auto`` on a CPU takes bfloat16 only where the CPU computes it natively (the
``avx512_bf16`` or ``amx_bf16`` feature) *and* a short timed matmul confirms that it is faster
than float32 here; everywhere else float32. On AVX2-only CPUs bfloat16 is emulated and 4x
(generation) to 20x (training) slower than float32, so guessing wrong costs more than the probe.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import Callable

import torch

log = logging.getLogger(__name__)

NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# bfloat16 must beat float32 by this factor in the probe: native bf16 matmuls are about 2x
# faster, emulated ones several times slower, so the margin keeps noise from flipping it.
MIN_BF16_SPEEDUP = 1.2


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else CPU; ``cuda``/``cpu`` are taken as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"config device={name!r} but CUDA is not available; set device: auto or cpu")
    return torch.device(name)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where /proc/cpuinfo does not exist)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def matmul_seconds(dtype: torch.dtype, size: int = 384, repeats: int = 5) -> float:
    """Best-of-``repeats`` wall time of one ``size`` x ``size`` matmul in ``dtype`` on CPU."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b  # warm-up: kernel selection and allocation
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return best


def bf16_speedup() -> float:
    """How many times faster a bfloat16 matmul runs than a float32 one on this CPU."""
    return matmul_seconds(torch.float32) / matmul_seconds(torch.bfloat16)


def choose_cpu_dtype(flags: frozenset[str],
                     speedup: Callable[[], float] = bf16_speedup) -> tuple[torch.dtype, str]:
    """The dtype ``auto`` means on this CPU, and why. ``speedup`` is only measured where the
    CPU has native bfloat16."""
    native = sorted(NATIVE_BF16_FLAGS & flags)
    if not native:
        return torch.float32, ("float32: no native bfloat16 on this CPU (none of "
                               f"{sorted(NATIVE_BF16_FLAGS)} in its flags)")
    ratio = speedup()
    if ratio < MIN_BF16_SPEEDUP:
        return torch.float32, (f"float32: the CPU has {native} but a bfloat16 matmul ran only "
                               f"{ratio:.2f}x as fast as float32 (< {MIN_BF16_SPEEDUP})")
    return torch.bfloat16, (f"bfloat16: the CPU has {native} and a bfloat16 matmul ran "
                            f"{ratio:.2f}x as fast as float32")


@functools.lru_cache(maxsize=None)
def auto_cpu_dtype() -> torch.dtype:
    """``choose_cpu_dtype`` for this machine, probed once per process and logged."""
    dtype, reason = choose_cpu_dtype(cpu_flags())
    log.info("dtype auto on CPU -> %s", reason)
    return dtype


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on CUDA cards that support it, else float16; on CPU see
    ``choose_cpu_dtype``. Any other name forces that dtype."""
    if name != "auto":
        return getattr(torch, name)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return auto_cpu_dtype()
