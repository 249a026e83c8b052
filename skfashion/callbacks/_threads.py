"""Training threads that make way for other processes.

PyTorch runs its CPU kernels on one OpenMP thread per core, and every
parallel region waits for its slowest thread. When another process keeps a
core busy, the thread that shares that core runs only when the scheduler
gives it a turn, and each of the thousands of parallel regions of a
training step waits for that turn: on a 2-core machine beside one busy
process, two threads trained at about a third of their quiet speed, while
one thread kept more than half of it (``python -m benchmarks busy``).
OpenMP's passive wait policy only halves the loss and slows a quiet machine
(the dense net by more than half).

:class:`AdaptiveThreads`, one of every estimator's default callbacks,
therefore watches how much CPU time *other* processes take on the cores this
process may run on, and trains with as many threads as there are free
cores -- never more than PyTorch was set to use when ``fit`` began
(``torch.set_num_threads``, ``OMP_NUM_THREADS``), and back to that number
when ``fit`` ends.
"""

import math
import os
import time
from pathlib import Path

import torch
from skorch.callbacks import Callback

__all__ = ["AdaptiveThreads", "threads_for"]

#: A core counts as taken when other processes use more than this share of it.
TAKEN = 0.25

#: Seconds a fit with no recent decision looks at the load before training.
PROBE = 0.1

_saved_threads = None  # PyTorch's thread count before a fit reduced it
_recent = (-math.inf, None)  # (when, threads): the last decision of any fit


def _cpus():
    """The CPUs this process may run on."""
    try:
        return frozenset(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return frozenset(range(os.cpu_count() or 1))


def busy_seconds(cpus, stat="/proc/stat"):
    """CPU seconds that ``cpus`` have spent busy since boot (all processes,
    the kernel and time stolen by a hypervisor), or None where the kernel does
    not say (not Linux)."""
    try:
        text = Path(stat).read_text()
    except OSError:
        return None
    ticks = 0
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if not (name.startswith("cpu") and name[3:].isdigit()):
            continue
        if int(name[3:]) in cpus:
            # user nice system idle iowait irq softirq steal
            user, nice, system, _, _, irq, softirq, steal = map(int, rest.split()[:8])
            ticks += user + nice + system + irq + softirq + steal
    return ticks / os.sysconf("SC_CLK_TCK")


def own_seconds():
    """CPU seconds this process (all its threads) has used."""
    return time.process_time()


def threads_for(others, n_cpus, max_threads):
    """How many threads to train with when other processes keep ``others``
    cores busy out of ``n_cpus``: one per free core, at least one, at most
    ``max_threads``.

    Examples
    --------
    >>> from skfashion.callbacks._threads import threads_for
    >>> threads_for(0.05, n_cpus=2, max_threads=2)  # a quiet machine
    2
    >>> threads_for(1.0, n_cpus=2, max_threads=2)  # one busy core
    1
    >>> threads_for(0.6, n_cpus=2, max_threads=2)  # sharing the other core
    1
    >>> threads_for(2.0, n_cpus=8, max_threads=8)
    6
    """
    taken = max(0, math.ceil(others - TAKEN))
    return max(1, min(max_threads, n_cpus - taken))


def _set_threads(n):
    global _saved_threads
    if _saved_threads is None:
        _saved_threads = torch.get_num_threads()
    torch.set_num_threads(n)


def restore_threads():
    """Give PyTorch back the thread count it had before a fit reduced it."""
    global _saved_threads
    if _saved_threads is not None:
        torch.set_num_threads(_saved_threads)
        _saved_threads = None


class AdaptiveThreads(Callback):
    """Train on the cores that other processes leave free.

    Every ``interval`` seconds of training on the CPU, measures the CPU time
    that other processes took on this process's cores (``/proc/stat`` less
    this process's own time) and sets PyTorch's thread count to the number
    of free cores (see :func:`threads_for`), at most the count PyTorch had
    when ``fit`` began; restores that count when ``fit`` ends. A fit starts
    with the last decision of the past ``remember`` seconds, or else looks at
    the load for a tenth of a second first, so that short fits (and the
    report's timing of the first batches) see the machine as it is. It does
    nothing on a GPU, with one thread, or where the kernel has no
    ``/proc/stat``.

    Training with fewer threads changes the order of floating-point sums, so
    a fit that adapted is not bit for bit the fit of a quiet machine. To keep
    the thread count fixed, remove the callback:
    ``net.set_params(callbacks__threads=None)``.

    Parameters
    ----------
    interval : float, default=1.0
        Seconds between two measurements.
    remember : float, default=30.0
        Seconds for which the last decision is where the next fit starts.

    Examples
    --------
    Every classifier has it as ``threads``; to train on a fixed number of
    threads, remove it:

    >>> from skfashion import FashionMLP
    >>> from skfashion.callbacks import AdaptiveThreads
    >>> net = FashionMLP()
    >>> isinstance(net.get_params()["callbacks__threads"], AdaptiveThreads)
    True
    >>> net = net.set_params(callbacks__threads=None)
    """

    def __init__(self, interval=1.0, remember=30.0):
        self.interval = interval
        self.remember = remember

    def on_train_begin(self, net, **kwargs):
        restore_threads()  # a fit that raised did not reach on_train_end
        self.max_threads_ = torch.get_num_threads()
        self.cpus_ = _cpus()
        self.last_ = None
        on_cpu = torch.device(getattr(net, "device_", net.device)).type == "cpu"
        if not on_cpu or self.max_threads_ == 1:
            return
        self.last_ = self._sample()
        if self.last_ is None:
            return
        decided_at, threads = _recent
        if time.monotonic() - decided_at <= self.remember:
            self._use(threads)
        else:  # a first look at the load
            time.sleep(PROBE)
            self._adapt()

    def _sample(self):
        busy = busy_seconds(self.cpus_)
        if busy is None:
            return None
        return time.monotonic(), busy, own_seconds()

    def _adapt(self):
        """Measure the load since the last sample and use the free cores."""
        global _recent
        now = self._sample()
        wall, busy, own = (b - a for a, b in zip(self.last_, now, strict=True))
        others = max(0.0, busy - own) / max(wall, 1e-9)
        threads = threads_for(others, len(self.cpus_), self.max_threads_)
        self._use(threads)
        _recent = (now[0], threads)
        self.last_ = now

    def _use(self, threads):
        threads = min(threads, self.max_threads_)
        if threads != torch.get_num_threads():
            _set_threads(threads)

    def on_batch_end(self, net, **kwargs):
        if self.last_ is not None and time.monotonic() - self.last_[0] >= self.interval:
            self._adapt()

    def on_train_end(self, net, **kwargs):
        restore_threads()
