"""Training that reuses its freed memory instead of asking the kernel again.

PyTorch allocates its CPU tensors with the C library's ``malloc``. glibc
serves a block larger than its *mmap threshold* (at most 32 MiB when it
adapts the threshold itself) with a fresh ``mmap`` and unmaps it when it is
freed; smaller freed blocks at the top of the heap go back to the kernel
beyond the *trim threshold*. A training step of FastFashionCNN allocates and
frees the same activations every step -- 96 MB for the first group's
convolution alone at batch 512 -- so every step faulted in ~50,000 fresh
pages: 7 % of its time on a 2-core Intel Xeon (``python -m benchmarks
profile``). Raising both thresholds for the length of a fit keeps those
blocks in the heap, and the next step reuses them (no page faults at all in
the steady state).

:class:`ReuseFreedMemory`, one of every estimator's default callbacks, does
that with glibc's ``mallopt`` and undoes the trim threshold when the fit
ends, handing the memory it kept back to the kernel (``malloc_trim``). It does
nothing where the C library is not glibc, or where the process was started
with glibc's own variables ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` (whoever set them chose: Dask's workers set the
second, see :ref:`scaling`).
"""

import ctypes
import functools
import numbers
import os

from skorch.callbacks import Callback

__all__ = ["ReuseFreedMemory"]

#: mallopt's parameter numbers (glibc's malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3

#: glibc's default trim threshold, restored when a fit ends
DEFAULT_TRIM_THRESHOLD = 128 * 1024

#: glibc's variables that, when set, leave the thresholds to whoever set them
ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

_raised = False  # whether a fit's thresholds are in force


@functools.cache
def glibc():
    """glibc, through ctypes, or None where the C library is another. (The
    process's own symbols: no search for the library, which would start
    ``ldconfig``.)"""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 -- only glibc has it
        libc.mallopt, libc.malloc_trim  # noqa: B018
    except (OSError, TypeError, AttributeError):
        return None
    return libc


def restore_thresholds():
    """Put glibc's trim threshold back to its default and hand the freed
    memory at the top of the heap back to the kernel, if a fit raised it.
    The mmap threshold stays where the fit set it: glibc has no way back to
    the threshold it adapts itself, and a higher one only keeps more freed
    blocks in the heap, which the trim threshold then returns."""
    global _raised
    libc = glibc()
    if _raised and libc is not None:
        libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
        libc.malloc_trim(0)
    _raised = False


class ReuseFreedMemory(Callback):
    """Keep training's freed memory for the next step (glibc's ``malloc``).

    When a fit begins, sets glibc's mmap threshold to ``mmap_threshold``
    bytes and its trim threshold to ``trim_threshold`` bytes (``mallopt``),
    so that the large activations each training step frees are reused by
    the next step instead of being unmapped and faulted in again; when it
    ends, the trim threshold returns to glibc's default (128 KiB) and the
    memory kept at the top of the heap goes back to the kernel. Between the
    two, the process may hold up to ``trim_threshold`` bytes of freed memory.
    Nothing changes where the C library is not glibc or where
    ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` is set in the
    environment. The thresholds are the process's: two fits at once in one
    process share them, and the first to end restores them.

    The arithmetic is the same either way: a fit with or without it trains
    the same weights, bit for bit.

    Parameters
    ----------
    mmap_threshold : int, default=256 MiB
        Blocks at least this large are mapped afresh and unmapped when freed.
    trim_threshold : int, default=1 GiB
        Freed memory at the top of the heap beyond this much is returned to
        the kernel.

    Examples
    --------
    Every classifier has it as ``malloc``; to leave ``malloc`` alone, remove
    it:

    >>> from skfashion import FastFashionCNN
    >>> from skfashion.callbacks import ReuseFreedMemory
    >>> net = FastFashionCNN()
    >>> isinstance(net.get_params()["callbacks__malloc"], ReuseFreedMemory)
    True
    >>> net = net.set_params(callbacks__malloc=None)
    """

    def __init__(self, mmap_threshold=256 * 2**20, trim_threshold=2**30):
        self.mmap_threshold = mmap_threshold
        self.trim_threshold = trim_threshold

    def on_train_begin(self, net, **kwargs):
        global _raised
        restore_thresholds()  # a fit that raised did not reach on_train_end
        libc = glibc()
        self.applied_ = libc is not None and not any(
            name in os.environ for name in ENVIRONMENT
        )
        for name in ("mmap_threshold", "trim_threshold"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(
                    f"{type(self).__name__}'s {name} must be a positive number "
                    f"of bytes, got {value!r}."
                )
        if self.applied_:
            for param, name in (
                (M_MMAP_THRESHOLD, "mmap_threshold"),
                (M_TRIM_THRESHOLD, "trim_threshold"),
            ):
                value = int(getattr(self, name))
                if not libc.mallopt(param, value):
                    raise ValueError(
                        f"glibc's mallopt refused {type(self).__name__}'s "
                        f"{name}={value!r}."
                    )
            _raised = True

    def on_train_end(self, net, **kwargs):
        restore_thresholds()
