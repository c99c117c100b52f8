"""dtype auto: bfloat16 on a CPU only where it is native and measured faster, else float32."""

import torch

from paretohqd import devices
from paretohqd.devices import choose_cpu_dtype, cpu_flags, resolve_dtype
from paretohqd.policy.config import SFTSettings
from paretohqd.policy.training import _precision
from tiny_settings import tiny_config

AVX2_ONLY = frozenset({"sse4_2", "avx", "avx2", "fma"})
NATIVE = AVX2_ONLY | {"avx512f", "avx512_bf16"}


def settings(dtype: str) -> SFTSettings:
    return SFTSettings.from_config(tiny_config() | {"dtype": dtype}, steps=1, seed=0)


def never_probed() -> float:
    raise AssertionError("an AVX2-only CPU must not need the timing probe")


def test_avx2_only_cpu_gets_float32_without_a_probe():
    dtype, reason = choose_cpu_dtype(AVX2_ONLY, speedup=never_probed)
    assert dtype == torch.float32
    assert "no native bfloat16" in reason


def test_native_bf16_cpu_gets_bfloat16_when_the_probe_finds_it_faster():
    dtype, reason = choose_cpu_dtype(NATIVE, speedup=lambda: 2.1)
    assert dtype == torch.bfloat16
    assert "avx512_bf16" in reason and "2.10x" in reason


def test_native_bf16_cpu_keeps_float32_when_the_probe_finds_no_gain():
    dtype, reason = choose_cpu_dtype(NATIVE | {"amx_bf16"}, speedup=lambda: 0.9)
    assert dtype == torch.float32
    assert "0.90x" in reason


def test_cpu_flags_reads_the_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\nbugs\t\t: none\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_the_probe_measures_both_dtypes():
    assert devices.bf16_speedup() > 0


def test_forced_dtypes_are_taken_as_given():
    cpu = torch.device("cpu")
    assert resolve_dtype("float32", cpu) == torch.float32
    assert resolve_dtype("bfloat16", cpu) == torch.bfloat16


def test_training_precision_follows_the_auto_choice(monkeypatch):
    cpu = torch.device("cpu")
    for choice, expected in ((torch.float32, {"bf16": False, "fp16": False}),
                             (torch.bfloat16, {"bf16": True, "fp16": False})):
        monkeypatch.setattr(devices, "auto_cpu_dtype", lambda c=choice: c)
        assert _precision(settings(dtype="auto"), cpu) == expected
    assert _precision(settings(dtype="float32"), cpu) == {"bf16": False, "fp16": False}
