"""Where and how a model runs: device choice, threads, and mixed precision."""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

from rnncli.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")


def resolve_device(name: str) -> torch.device:
    if name not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("--device mps: no Apple GPU is available")
    return torch.device(name)


def cpu_computes_bf16() -> bool:
    """True where oneDNN computes bf16 on this CPU (AVX512 or newer); elsewhere (AVX2) its LSTM
    kernel refuses bf16 inputs outright."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_has_native_bf16() -> bool:
    """True where the CPU multiplies bf16 natively (AVX512-BF16 or AMX), so bf16 is a real speed-up."""
    return cpu_computes_bf16() and _cpu_flag("avx512_bf16", "amx_bf16")


def _cpu_flag(*flags: str) -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            text = handle.read(1 << 20)
    except OSError:
        return False
    return any(f" {flag}" in text for flag in flags)


def resolve_precision(name: str, device: torch.device) -> str:
    if name not in PRECISIONS:
        raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}")
    if name != "auto":
        if name == "bf16" and device.type == "mps":
            raise ConfigError("--precision bf16 is not supported on mps")
        if name == "bf16" and device.type == "cpu" and not cpu_computes_bf16():
            raise ConfigError("--precision bf16: this CPU cannot compute in bf16 (that needs AVX512 or newer); "
                              "use --precision fp32")
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


def autocast(device: torch.device, precision: str) -> ContextManager[object]:
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def set_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise ConfigError("--threads must be at least 1")
        torch.set_num_threads(threads)


def inference_precision(trained: str, device: torch.device) -> str:
    """The precision a run trained in, where the device can run it: a run trained in bf16 reads in
    fp32 on mps and on a CPU that cannot compute bf16 (a run moved from a newer machine)."""
    if device.type == "mps" or (trained == "bf16" and device.type == "cpu" and not cpu_computes_bf16()):
        return "fp32"
    return resolve_precision(trained if trained in ("fp32", "bf16") else "auto", device)
