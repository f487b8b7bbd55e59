"""Mixed precision and ``torch.compile`` for training: what each setting means on each device.

The weights stay float32 throughout (so saved models, ONNX export and
inference are the same whatever the training precision), the forward pass
runs under ``torch.autocast``, and the loss is computed in float32 from
outputs cast back to float32.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil

import torch

PRECISIONS = ("32", "bf16-mixed", "16-mixed")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
# compile=True: the mode measured fastest on each device (docs/speed.md).
DEFAULT_COMPILE_MODE = {"cpu": "default", "cuda": "reduce-overhead"}
_AUTOCAST_DTYPE = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}


def check_precision(precision: str, device) -> None:
    """Refuse a precision that ``device`` cannot train in, saying what to use instead."""
    device = torch.device(device)
    if precision == "16-mixed" and device.type != "cuda":
        raise ValueError(
            f"precision='16-mixed' (float16 with a gradient scaler) trains on CUDA only, and "
            f"this fit runs on {device.type!r}. Use precision='bf16-mixed', which needs no "
            "scaler and runs on the CPU too, or precision='32'."
        )


def autocast(precision: str, device):
    """The autocast context of ``precision`` on ``device`` (none for ``"32"``)."""
    dtype = _AUTOCAST_DTYPE.get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def in_float32(output):
    """``output`` (a tensor or a dict of them) with low-precision floats cast to float32."""
    if isinstance(output, dict):
        return {k: in_float32(v) for k, v in output.items()}
    if isinstance(output, torch.Tensor) and output.dtype in (torch.bfloat16, torch.float16):
        return output.float()
    return output


def grad_scaler(precision: str, device):
    """A ``torch.amp.GradScaler`` for ``"16-mixed"``, else ``None``."""
    if precision != "16-mixed":
        return None
    return torch.amp.GradScaler(torch.device(device).type)


def compile_mode(compile, device) -> str | None:
    """The ``torch.compile`` mode that ``compile`` names on ``device``; ``None`` for eager.

    ``True`` takes the device's measured default (:data:`DEFAULT_COMPILE_MODE`).
    Off CUDA, a mode that needs CUDA graphs falls back to the same mode
    without them (``"reduce-overhead"`` to ``"default"``).
    """
    if not isinstance(compile, str):
        compile = bool(compile)  # numpy booleans too
    if compile is False:
        return None
    kind = torch.device(device).type
    mode = DEFAULT_COMPILE_MODE.get(kind, "default") if compile is True else compile
    if kind != "cuda" and mode in ("reduce-overhead", "max-autotune"):
        mode = "default" if mode == "reduce-overhead" else "max-autotune-no-cudagraphs"
    return mode


def check_compiler(device) -> None:
    """Refuse ``compile`` when torch's compiler cannot build kernels for ``device``.

    torch.compile writes C++ for the CPU and Triton for CUDA; without them it
    would fail deep inside the first training step.
    """
    kind = torch.device(device).type
    if kind == "cuda":
        if importlib.util.find_spec("triton") is None:
            raise RuntimeError(
                "compile=True on CUDA needs Triton, which is not installed. Install it "
                "(pip install triton, matching your torch) or use compile=False."
            )
        return
    compilers = [os.environ.get("CXX"), "g++", "c++", "clang++"]
    if not any(name and shutil.which(name) for name in compilers):
        raise RuntimeError(
            "compile=True on the CPU needs a C++ compiler, and none was found (looked for "
            "$CXX, g++, c++ and clang++ on PATH). Install one (e.g. apt install g++, or "
            "conda install gxx) or use compile=False."
        )
