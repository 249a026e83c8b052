"""Training beside a busy core: images/s of each model, quiet and beside a busy core.

Another process keeps one core busy (``python -c "while True: pass"``).

Each model trains at its defaults (batch size, precision "auto") with
skfashion's thread policy (``AdaptiveThreads``, the default: one thread per
core that other processes leave free) and with the thread count fixed at
PyTorch's default (``callbacks__threads=None``, what skfashion did before),
quiet and beside one busy process (``python -c "while True: pass"``), the
four conditions interleaved in every repeat so that the machine's drifting
speed hits them alike. Speed is the steady state: the median epoch after the
first of a three-epoch fit (the first epoch includes the warm-up and the
first measurement of the load).
Goals (issue #16): beside one busy core, every model keeps >= 45 % of its
quiet speed (the limit is 50 % of two cores), and its quiet speed is not
lower than with the fixed thread count.
"""

import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from skfashion import FashionCNN, FashionMLP, FastFashionCNN, fetch_fashion_mnist

MODELS = {"mlp": FashionMLP, "cnn": FashionCNN, "fast": FastFashionCNN}
# images per epoch: a few seconds an epoch on a 2-core CPU
SIZES = {
    True: {"mlp": 12_000, "cnn": 600, "fast": 2_000},
    False: {"mlp": 30_000, "cnn": 1_500, "fast": 6_000},
}
POLICIES = {"adaptive": {}, "fixed": {"callbacks__threads": None}}


class BusyCore:
    """Another process that keeps one core busy while the block runs."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)  # let the scheduler place it
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def epoch_speed(cls, X, y, **params):
    """Images per second of the median epoch after the first."""
    clf = cls(max_epochs=3, validation_split=None, random_state=0, **params)
    clf.fit(X, y)
    return len(y) / statistics.median(clf.history[1:, "dur"])


def run(quick=True):
    train = fetch_fashion_mnist(subset="train")
    threads = torch.get_num_threads()
    rows = []
    for name, cls in MODELS.items():
        n = SIZES[quick][name]
        X = (train.data[:n] / 255).astype(np.float32)
        y = train.target[:n]
        cls(max_epochs=1, validation_split=None).fit(X[:256], y[:256])  # warm up
        speeds = {(p, c): [] for p in POLICIES for c in ("quiet", "busy")}
        for _ in range(2 if quick else 3):
            for policy, params in POLICIES.items():
                speeds[policy, "quiet"].append(epoch_speed(cls, X, y, **params))
                with BusyCore():
                    speeds[policy, "busy"].append(epoch_speed(cls, X, y, **params))
                assert torch.get_num_threads() == threads  # restored after fit
        med = {k: statistics.median(v) for k, v in speeds.items()}
        for policy in POLICIES:
            quiet, busy = med[policy, "quiet"], med[policy, "busy"]
            rows.append(
                {
                    "model": name,
                    "threads": "adaptive (default)"
                    if policy == "adaptive"
                    else f"fixed at {threads}",
                    "images": n,
                    "quiet_img_s": round(quiet),
                    "busy_img_s": round(busy),
                    "busy_fraction": round(busy / quiet, 3),
                    "quiet_vs_fixed": round(quiet / med["fixed", "quiet"], 3),
                    "all_img_s": {
                        f"{p}/{c}": [round(s) for s in v]
                        for (p, c), v in speeds.items()
                        if p == policy
                    },
                }
            )
    return rows
