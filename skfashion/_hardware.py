"""What this machine can do: its CPU, bfloat16 support, the device to use.

Pure functions, no estimator code: the estimators resolve their ``device``
and ``precision`` parameters here once, in ``fit``, into ``device_`` and
``precision_``. PyTorch is imported by the functions that need it, so that
the command line can read ``PRECISIONS`` without it.
"""

import functools
import platform
from pathlib import Path

__all__ = ["bf16_supported", "cpu_name", "resolve_device", "resolve_precision"]

PRECISIONS = ("auto", "float32", "bfloat16")


@functools.cache
def _cpuinfo():
    """The kernel's ``/proc/cpuinfo``, or "" where there is none."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_name():
    """The CPU's model name, for reports and benchmark records.

    Examples
    --------
    >>> from skfashion._hardware import cpu_name
    >>> isinstance(cpu_name(), str)
    True
    """
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def bf16_supported(device):
    """Whether bfloat16 mixed precision is fast on ``device``.

    True for CUDA GPUs that support bfloat16 (Ampere and newer) and for CPUs
    with AMX or AVX512-BF16 instructions (read from the kernel's CPU flags),
    where PyTorch's ``autocast`` runs matrix products natively in bfloat16.

    Examples
    --------
    >>> from skfashion._hardware import bf16_supported
    >>> bf16_supported("cpu") in (True, False)
    True
    """
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        flags = _cpuinfo()
        return "amx_bf16" in flags or "avx512_bf16" in flags
    return False


def resolve_device(device):
    """The device an estimator's ``device`` parameter names, as a string.

    ``"auto"`` (or None) is CUDA when a GPU is available, else the CPU.

    Raises
    ------
    ValueError
        If ``device`` is not a device name, or names a CUDA device that this
        machine does not have -- before anything is trained.

    Examples
    --------
    >>> from skfashion._hardware import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    import torch

    if device is None or (isinstance(device, str) and device == "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or a "
            f"torch.device, got {device!r}."
        ) from None
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"device={device!r}, but this machine has no CUDA GPU that PyTorch "
                f"can use (PyTorch {torch.__version__}); use device='auto' or 'cpu'."
            )
        if resolved.index is not None and resolved.index >= count:
            raise ValueError(
                f"device={device!r}, but this machine has only {count} CUDA GPU(s)."
            )
    return str(resolved)


def resolve_precision(precision, device):
    """``"auto"`` becomes ``"bfloat16"`` where :func:`bf16_supported`.

    Examples
    --------
    >>> from skfashion._hardware import resolve_precision
    >>> resolve_precision("float32", "cpu")
    'float32'
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        return "bfloat16" if bf16_supported(device) else "float32"
    return precision
