"""The report's estimate against the time it measures: seconds per batch.

``skfashion report`` estimates its duration from a few timed batches of each
model (``time_batches``) before it trains. This times each model's batches
the same way, then trains one real epoch on ``n_batches`` batches and
compares: ``ratio`` = estimated / measured seconds per batch over that
epoch (1.0 is exact; the goal is within 10 %, on every CPU), and the same
for the steady state after the first 20 batches. Run it on a quiet machine.
"""

import time

import numpy as np

from skfashion import fetch_fashion_mnist
from skfashion.experiments import RunBuilder, _timing

PIPELINES = RunBuilder()  # the report's pipelines, device and precision "auto"

N_BATCHES = {"quick": {"mlp": 300, "cnn": 60}, "full": {"mlp": 1700, "cnn": 300}}


def _measure(name, X, y, n):
    ends = _timing.batch_ends()
    pipe = PIPELINES.pipeline(
        name,
        max_epochs=1,
        validation_split=None,
        random_state=0,
        callbacks=[("ends", ends)],
    )
    bs = pipe[-1].batch_size
    start = time.perf_counter()
    pipe.fit(X[: n * bs], y[: n * bs])
    intervals = ends.intervals(start)
    return float(np.mean(intervals)), float(np.mean(intervals[20:]))


def run(quick=True):
    X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
    rows = []
    for name, n in N_BATCHES["quick" if quick else "full"].items():
        per_batch, _, _ = PIPELINES.time(
            name, X, y, validation_split=None, random_state=0
        )
        epoch, steady = _measure(name, X, y, n)
        rows.append(
            {
                "model": name,
                "batches": n,
                "estimated_ms": round(1000 * per_batch, 2),
                "measured_ms": round(1000 * epoch, 2),
                "steady_ms": round(1000 * steady, 2),
                "ratio": round(per_batch / epoch, 3),
                "ratio_steady": round(per_batch / steady, 3),
            }
        )
    return rows
