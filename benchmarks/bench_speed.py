"""Speed against the machine's limit: images/s and the fraction of peak FLOP/s.

The limit is this machine's matrix-multiply peak as PyTorch runs it (a
2048x2048 GEMM, best of several, same thread count), in float32 and, where
the CPU computes it natively, bfloat16. Each model's FLOPs per image come
from ``torch.utils.flop_counter.FlopCounterMode`` (forward and backward for
training, forward for prediction). The fraction is
``images/s * FLOPs per image / peak`` of the precision the model ran in (the
peak is measured again after each model, and the largest value is used, as
the speed of a shared machine drifts).
Training is at batch 32 (the report's protocol) for skfashion and for a
plain PyTorch loop of the same module, optimizer and penalty; prediction is
of the 10,000 test images at skfashion's prediction batch size.
Goals (issue #13), training at batch 32: FashionMLP >= 35 % (float32 CPUs) or
>= 20 % (bfloat16 CPUs); FashionCNN >= 75 % / >= 45 %; CNN prediction >= 60 %.
"""

import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from skfashion import FashionCNN, FashionMLP, FastFashionCNN, fetch_fashion_mnist
from skfashion.utils import bf16_supported

from .bench_training import _plain_epoch

GEMM_SIZE = 2048


def gemm_peak(dtype, repeats=7):
    """FLOP/s of the best of ``repeats`` square GEMMs of GEMM_SIZE."""
    a = torch.randn(GEMM_SIZE, GEMM_SIZE).to(dtype)
    b = torch.randn(GEMM_SIZE, GEMM_SIZE).to(dtype)
    torch.mm(a, b)  # warm up
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(repeats))
    return 2 * GEMM_SIZE**3 / best


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _module(clf, n_classes=10):
    clf = clf.set_params(max_epochs=0, validation_split=None, random_state=0)
    X = np.zeros((n_classes, 784), np.float32)
    return clf.fit(X, np.arange(n_classes))


def flops_per_image(clf, batch_size, training):
    """FLOPs of one step (forward, and backward when training) per image."""
    x = torch.rand(batch_size, 784)
    y = torch.arange(batch_size) % 10
    module = clf.module_.train(training)
    counter = FlopCounterMode(display=False)
    with counter:
        if training:
            loss = nn.functional.cross_entropy(module(x), y)
            loss.backward()
        else:
            with torch.no_grad():
                module(x)
    module.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch_size


def _fit_epoch(make, X, y, batch_size):
    clf = make(max_epochs=1, batch_size=batch_size, validation_split=None)
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start, clf


MODELS = {
    "FashionMLP": (FashionMLP, 30000, 4000),
    "FashionCNN": (FashionCNN, 1500, 256),
    "FastFashionCNN": (FastFashionCNN, 4000, 512),
}


def run(quick):
    train = fetch_fashion_mnist(subset="train")
    test = fetch_fashion_mnist(subset="test")
    X_all = (train.data / np.float32(255)).astype(np.float32)
    y_all = train.target
    X_test = (test.data / np.float32(255)).astype(np.float32)
    repeats = 1 if quick else 3
    precisions = ["float32"] + (["bfloat16"] if bf16_supported("cpu") else [])
    peaks = {
        p: gemm_peak(torch.float32 if p == "float32" else torch.bfloat16)
        for p in precisions
    }
    for p, peak in peaks.items():
        print(f"  {p} GEMM peak: {peak / 1e9:.1f} GFLOP/s", flush=True)
    rows = [
        {
            "what": f"GEMM {GEMM_SIZE}^2 peak",
            "precision": p,
            "gflop_s": round(v / 1e9, 1),
        }
        for p, v in peaks.items()
    ]
    for name, (cls, n_full, n_quick) in MODELS.items():
        n = n_quick if quick else n_full
        X, y = X_all[:n], y_all[:n]
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        for precision in precisions:

            def make(precision=precision, cls=cls, **params):
                return cls(precision=precision, random_state=0, **params)

            train_flops = flops_per_image(_module(make()), 32, training=True)
            infer_flops = flops_per_image(_module(make()), 256, training=False)
            _fit_epoch(make, X[:64], y[:64], 32)  # warm up
            ours, plain = [], []
            for _ in range(repeats):
                seconds, clf = _fit_epoch(make, X, y, 32)
                ours.append(seconds)
                bf16 = clf.precision_ == "bfloat16"
                module = clf.module_
                plain.append(_plain_epoch(lambda m=module: m, Xt, yt, 32, bf16, clf.l2))
            # the peak again, right after: this VM's speed drifts by minutes
            dtype = torch.float32 if precision == "float32" else torch.bfloat16
            peak = max(peaks[precision], gemm_peak(dtype))
            peaks[precision] = peak
            ours_s, plain_s = n / statistics.median(ours), n / statistics.median(plain)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                clf.predict_proba(X_test)
                times.append(time.perf_counter() - start)
            predict_s = len(X_test) / statistics.median(times)
            row = {
                "what": name,
                "precision": precision,
                "peak_gflop_s": round(peak / 1e9, 1),
                "train_mflop_per_img": round(train_flops / 1e6, 2),
                "limit_img_s": round(peak / train_flops),
                "train_img_s": round(ours_s, 1),
                "train_fraction": round(ours_s * train_flops / peak, 3),
                "plain_img_s": round(plain_s, 1),
                "plain_fraction": round(plain_s * train_flops / peak, 3),
                "predict_img_s": round(predict_s, 1),
                "predict_fraction": round(predict_s * infer_flops / peak, 3),
            }
            rows.append(row)
            print(f"  {row}", flush=True)
    return rows
