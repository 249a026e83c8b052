"""What this machine can do: its CPU, bfloat16 support, the device to use.

Pure functions, no estimator code: the estimators resolve their ``device``
and ``precision`` parameters here once, in ``fit``, into ``device_`` and
``precision_``. PyTorch is imported by the functions that need it, so that
the command line can read ``PRECISIONS`` without it.
"""

import functools
import importlib.metadata
import os
import platform
from pathlib import Path

__all__ = [
    "PRECISIONS",
    "bf16_supported",
    "cpu_detail",
    "cpu_name",
    "describe_machine",
    "resolve_device",
    "resolve_precision",
]

#: The values of every classifier's ``precision`` parameter (and
#: ``--precision``): "auto" is decided by :func:`resolve_precision`.
PRECISIONS = ("auto", "float32", "bfloat16")


@functools.cache
def _cpuinfo():
    """The kernel's ``/proc/cpuinfo``, or "" where there is none."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def _first_cpu(cpuinfo):
    """The fields of the first processor that ``cpuinfo`` (the text of
    ``/proc/cpuinfo``) describes, by name: ``{"vendor_id": ..., "flags":
    ..., ...}``."""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_name():
    """The CPU's model name, for reports and benchmark records.

    Examples
    --------
    >>> from skfashion.utils import cpu_name
    >>> isinstance(cpu_name(), str)
    True
    """
    name = _first_cpu(_cpuinfo()).get("model name")
    return name or platform.processor() or platform.machine()


def cpu_detail():
    """The CPU's name, family and model, and the widest instructions that
    decide the precision, e.g. ``"AMD EPYC ..., family 26 model 2,
    AVX512-BF16"`` (the model name alone does not tell Zen 4 from Zen 5).

    Examples
    --------
    >>> from skfashion.utils import cpu_detail
    >>> cpu_detail().startswith(cpu_name())
    True
    """
    fields = _first_cpu(_cpuinfo())
    flags = set(fields.get("flags", "").split())
    named = [
        name
        for flag, name in (
            ("amx_bf16", "AMX"),
            ("avx512_bf16", "AVX512-BF16"),
            ("avx2", "AVX2"),
        )
        if flag in flags
    ]
    family = f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"
    return ", ".join([cpu_name(), family, *named[:1]])


def describe_machine(
    net=None, packages=("skfashion", "torch", "skorch", "scikit-learn")
):
    """What a result was measured on, for reports and benchmark records.

    Parameters
    ----------
    net : fitted skfashion classifier, default=None
        Adds the ``device`` and ``precision`` it trained with.
    packages : tuple of str, default=("skfashion", "torch", "skorch", "scikit-learn")
        The distributions whose versions to record.

    Returns
    -------
    machine : dict
        ``cpu`` (its model name), ``cpu_cores``, ``torch_threads``, ``gpu``
        (None without one), ``python``, each package's version, then
        ``device`` and ``precision`` when ``net`` is given.

    Examples
    --------
    >>> from skfashion.utils import describe_machine
    >>> machine = describe_machine(packages=("torch",))
    >>> sorted(machine)
    ['cpu', 'cpu_cores', 'gpu', 'python', 'torch', 'torch_threads']
    """
    import torch

    machine = {
        "cpu": cpu_name(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "python": platform.python_version(),
    }
    for package in packages:
        machine[package] = _version(package)
    if net is not None:
        machine["device"] = net.device_
        machine["precision"] = net.precision_
    return machine


def _version(package):
    if package == "skfashion":  # this code's, whatever was installed
        from .._version import __version__

        return __version__
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def bf16_supported(device):
    """Whether bfloat16 mixed precision is faster than float32 on ``device``.

    True for CUDA GPUs that support bfloat16 (Ampere and newer); on the CPU,
    where the kernel's CPU flags show AMX (``amx_bf16``), or AVX512-BF16
    (``avx512_bf16``) on an AMD CPU. Measured with PyTorch 2.13 on 2-core
    machines: FastFashionCNN trains 1.5x faster in bfloat16 on an AMD EPYC
    Zen 4; on an Intel Xeon whose flags show AVX512-BF16 but no AMX, a
    training step is 1.4x *slower* in bfloat16 (oneDNN runs its
    ``avx512_core_bf16`` kernels there, whose bfloat16 dot products do no
    more multiply-adds per cycle than float32 FMAs and add conversions), so
    such an Intel CPU trains in float32.

    Examples
    --------
    >>> from skfashion.utils import bf16_supported
    >>> bf16_supported("cpu") in (True, False)
    True
    """
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _bf16_fast_on_cpu(_cpuinfo())
    return False


def _bf16_fast_on_cpu(cpuinfo):
    """:func:`bf16_supported` for a CPU described by ``cpuinfo`` (the text of
    ``/proc/cpuinfo``)."""
    fields = _first_cpu(cpuinfo)
    flags = set(fields.get("flags", "").split())
    if "amx_bf16" in flags:
        return True
    return "avx512_bf16" in flags and fields.get("vendor_id") == "AuthenticAMD"


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
    >>> from skfashion.utils import resolve_device
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
    >>> from skfashion.utils import resolve_precision
    >>> resolve_precision("float32", "cpu")
    'float32'
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        return "bfloat16" if bf16_supported(device) else "float32"
    return precision
