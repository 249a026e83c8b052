"""Stop a long run the same way whatever stops it.

Ctrl-C (SIGINT), ``kill``/``timeout``/a container stop/a batch scheduler
(SIGTERM) and a closed terminal (SIGHUP) all end a long command the same
way: training stops at the next batch (skorch ends ``fit`` quietly on
``KeyboardInterrupt``), what finished is kept, and the command says how to
continue. The exit code is the shell's for that signal (128 + its number).
"""

import contextlib
import signal

__all__ = ["Interruption", "interruptible", "signals_to"]

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # SIGHUP does not exist on Windows


class Interruption:
    """Which signal, if any, interrupted the command."""

    def __init__(self):
        self.signum = None

    def __bool__(self):
        return self.signum is not None

    @property
    def name(self):
        return signal.Signals(self.signum).name if self else None

    @property
    def exit_code(self):
        return 128 + (self.signum or signal.SIGINT)


@contextlib.contextmanager
def interruptible():
    """Inside the block, SIGINT, SIGTERM and SIGHUP raise ``KeyboardInterrupt``
    and are recorded in the :class:`Interruption` yielded; the previous
    handlers come back afterwards.

    Examples
    --------
    >>> from skfashion.utils import interruptible
    >>> with interruptible() as stop:
    ...     pass
    >>> bool(stop)
    False
    """
    stop = Interruption()

    def handler(signum, frame):
        stop.signum = signum
        raise KeyboardInterrupt

    with signals_to(handler):
        yield stop


@contextlib.contextmanager
def signals_to(handler, names=SIGNALS):
    """Inside the block, the signals ``names`` (those this system has) call
    ``handler``; the previous handlers come back afterwards."""
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
