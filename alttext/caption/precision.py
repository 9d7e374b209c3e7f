"""The numeric precision a model runs in, as a cache-key part, known without importing torch.

Weights in fp16 or bf16, or quantized to int8, give other captions than fp32 weights, so
the precision is part of every cache key. The device is not: fp32 gives the same tokens on
any device. A cached run must find its captions before anything loads, so the precision is
first worked out from the options alone; `--dtype auto` means fp16 where CUDA is used, and
whether it will be is guessed from the NVIDIA/ROCm driver files. The loader's actual
precision replaces the guess once a model is loaded (see Captioner).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alttext.caption.model import DTYPE_NAMES

# Files present where a GPU driver torch can use is installed.
GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidia0", "/dev/nvidiactl", "/dev/kfd")


def precision_key(dtype: str, quantize: str | None) -> str:
    """`dtype=float32;quantize=none`: `dtype` is a torch dtype's name or an alias (fp16, bf16)."""
    name = DTYPE_NAMES.get(dtype.lower().removeprefix("torch."), dtype.lower().removeprefix("torch."))
    return f"dtype={name};quantize={quantize or 'none'}"


def expected_precision(device: str, dtype: str | None, quantize: str | None) -> str:
    """The precision_key the loader will report for these options, guessed without torch."""
    if dtype is None or dtype.lower() == "auto":
        dtype = "float16" if _will_use_cuda(device) else "float32"
    return precision_key(dtype, quantize)


def _will_use_cuda(device: str) -> bool:
    if device.startswith("cuda"):
        return True
    if device != "auto" or os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if sys.platform == "win32":
        return (Path(os.environ.get("SYSTEMROOT", r"C:\Windows")) / "System32" / "nvcuda.dll").exists()
    return any(os.path.exists(path) for path in GPU_DRIVER_FILES)
