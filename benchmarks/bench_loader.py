"""Loading Fashion-MNIST train + test from the .gz files (goal: <= 1.0 s).

Compared side by side with the naive way: gzip + ``np.frombuffer``, which
verifies nothing.
"""

import gzip

import numpy as np

from skfashion.datasets import fetch_fashion_mnist, locate_fashion_mnist

from ._common import repeat


def _naive():
    out = []
    for _, path, _ in locate_fashion_mnist():
        with gzip.open(path, "rb") as f:
            out.append(np.frombuffer(f.read(), np.uint8))
    return out


def _skfashion():
    fetch_fashion_mnist(subset="train", download_if_missing=False)
    fetch_fashion_mnist(subset="test", download_if_missing=False)


def run(quick):
    repeats = 3 if quick else 7
    _skfashion()  # warm the page cache
    naive, _ = repeat(_naive, repeats)
    ours, times = repeat(_skfashion, repeats)
    return [
        {"what": "naive gzip + frombuffer (no checks)", "median_s": round(naive, 3)},
        {
            "what": "fetch_fashion_mnist train+test (verified)",
            "median_s": round(ours, 3),
            "runs_s": [round(t, 3) for t in times],
            "ratio_vs_naive": round(ours / naive, 2),
            "goal_s": 1.0,
            "met": ours <= 1.0,
        },
    ]
