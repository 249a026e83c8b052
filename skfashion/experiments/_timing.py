"""Durations: timing a pipeline on its first batches, and saying how long."""

import re
import time

import numpy as np

__all__ = ["batch_ends", "format_duration", "parse_duration", "time_batches"]

_UNITS = {"h": 3600, "m": 60, "min": 60, "s": 1}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|min|s)")
PREDICTED = 512  # samples predicted to time prediction


def format_duration(seconds):
    """A duration as people say it: '45 s', '12 min', '2 h 05 min'.

    Examples
    --------
    >>> from skfashion.experiments import format_duration
    >>> format_duration(45), format_duration(720), format_duration(7500)
    ('45 s', '12 min', '2 h 05 min')
    """
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def parse_duration(text):
    """A duration with units, in seconds: '15m', '90s', '1h30m', '1.5h'.

    Examples
    --------
    >>> from skfashion.experiments import parse_duration
    >>> parse_duration("15m"), parse_duration("1h30m"), parse_duration("2h 5m")
    (900.0, 5400.0, 7500.0)
    """
    parts = _DURATION.findall(text.strip().lower())
    rest = _DURATION.sub("", text.strip().lower()).strip()
    if not parts or rest:
        raise ValueError(
            "budget must be a duration with units such as 15m, 90s or 1h30m, "
            f"got {text!r}"
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"budget must be positive, got {text!r}")
    return seconds


def time_batches(make_pipeline, X, y, budget=1.5):
    """Seconds per training batch, per fit (set-up) and per predicted sample
    of a pipeline.

    After a warm-up fit of two batches (one-time costs such as imports), a
    fit of k batches records when each batch ends: the cost of a batch is
    the median interval between batch ends after the first two (the first
    batches of a fit are slower than the rest -- kernels chosen and memory
    allocated for new shapes -- and a fit runs at the later speed), and a
    fit of two batches less two such batches is the set-up. The batch size
    is the pipeline's classifier's (``batch_size``; -1 is all of ``X``). The
    rows timed are drawn from all of ``X`` (seeded), so that data sorted by
    class still gives each fit every class it has."""
    batch_size = make_pipeline()[-1].batch_size
    bs = len(X) if batch_size == -1 else batch_size
    rows = np.random.RandomState(0).permutation(len(X))

    def fit_seconds(n_batches):
        pipe = make_pipeline()
        ends = batch_ends()
        pipe[-1].set_params(callbacks=[("batch_ends", ends)])
        start = time.perf_counter()
        sample = rows[: n_batches * bs]
        pipe.fit(X[sample], y[sample])
        return time.perf_counter() - start, pipe, ends.intervals(start)

    fit_seconds(2)  # warm up
    two, _, _ = fit_seconds(2)
    k = int(np.clip(budget / max(two / 2, 1e-6), 6, 50))
    k = max(min(k, len(X) // bs), 3)
    many, pipe, intervals = fit_seconds(k)
    if len(intervals) > 4:
        per_batch = float(np.median(intervals[2:]))
    else:  # too few batches to skip the first: the difference of two fits
        per_batch = max((many - two) / (k - 2), many / k / 4)
    setup = max(two - 2 * per_batch, 0.0)
    n = min(len(X), PREDICTED)
    start = time.perf_counter()
    pipe.predict_proba(X[rows[:n]])
    per_sample = (time.perf_counter() - start) / n
    return per_batch, setup, per_sample


def batch_ends():
    """A skorch callback that records when each training batch ends."""
    from skorch.callbacks import Callback

    class BatchEnds(Callback):
        def initialize(self):
            self.ends_ = []
            return self

        def on_batch_end(self, net, training=False, **kwargs):
            if training:
                self.ends_.append(time.perf_counter())

        def intervals(self, start):
            return np.diff([start, *self.ends_])

    return BatchEnds()
