"""The report's overall progress bar, advanced by a skorch callback.

A module of its own so that the command line imports skorch (and PyTorch)
only when a report trains, not for ``--help``.
"""

import time

from skorch.callbacks import Callback

from .._common import format_duration

__all__ = ["OverallProgress"]


class OverallProgress(Callback):
    """Advance the run's progress bar after every batch and show the time
    left at the measured speed."""

    def __init__(self, bar=None, clock=None):
        self.bar = bar
        self.clock = clock

    def on_batch_end(self, net, **kwargs):
        if self.bar is None:
            return
        self.clock.tick()
        self.bar.update(1)
        now = time.perf_counter()
        if now - getattr(self, "shown_", 0.0) > 1.0:
            left = format_duration(self.clock.remaining())
            self.bar.set_postfix_str(f"about {left} left", refresh=False)
            self.shown_ = now

    def __getstate__(self):  # a saved model keeps no terminal state
        return {**self.__dict__, "bar": None, "clock": None}
