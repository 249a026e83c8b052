"""Training and prediction speed: skfashion vs a minimal PyTorch loop.

For each network, precision and batch size, one epoch over the same images
with the same module, optimizer (Adam, fused, Keras' epsilon), L2 penalty and
autocast setting; the plain loop slices batches from one tensor, the least
work possible. Ratios are medians of interleaved repeats in the same run.
Goals (issue #6): skfashion within 1.10x the plain loop's time; at batch 32
>= 2x (dense, ~8,200 img/s) and >= 3x (CNN, 525 img/s) the Keras figures
measured on this machine before (dense ~4,100 img/s, CNN ~175 img/s; Keras
is not installed here, so those are reference numbers, not side by side).
"""

import statistics
import time

import numpy as np
import torch
from torch import nn

from skfashion import FashionCNN, FashionMLP, fetch_fashion_mnist
from skfashion.modules import CNNModule, MLPModule

KERAS_IMG_S = {"mlp": 4100, "cnn": 175}


def _plain_epoch(make_module, X, y, batch_size, bf16, l2=1e-4):
    torch.manual_seed(0)
    module = make_module()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-4, eps=1e-7, fused=True)
    kernels = [m.weight for m in module.modules() if isinstance(m, nn.Linear)]
    module.train()
    start = time.perf_counter()
    order = torch.randperm(len(X))
    for i in range(0, len(X), batch_size):
        idx = order[i : i + batch_size]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = module(X[idx])
        loss = nn.functional.cross_entropy(logits.float(), y[idx])
        loss = loss + l2 * sum(w.square().sum() for w in kernels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()  # skorch records every batch's loss
    return time.perf_counter() - start


def _skfashion_epoch(estimator_cls, X, y, batch_size, precision):
    clf = estimator_cls(
        max_epochs=1,
        batch_size=batch_size,
        precision=precision,
        validation_split=None,
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start, clf


def run(quick):
    data = fetch_fashion_mnist(subset="train")
    test = fetch_fashion_mnist(subset="test")
    X_all = (data.data / np.float32(255)).astype(np.float32)
    y_all = data.target
    repeats = 1 if quick else 3
    configs = [
        ("mlp", 10000 if quick else 30000, 32),
        ("cnn", 256 if quick else 2000, 32),
        ("cnn", 512 if quick else 2000, 128),
    ]
    rows = []
    for name, n, batch_size in configs:
        X, y = X_all[:n], y_all[:n]
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        if name == "mlp":

            def make():
                return MLPModule(784, 10)

            cls = FashionMLP
        else:

            def make():
                return CNNModule(10, channels_last=True)

            cls = FashionCNN
        for precision in ("float32", "bfloat16"):
            bf16 = precision == "bfloat16"
            plain, ours = [], []
            _plain_epoch(
                make, Xt[: batch_size * 2], yt[: batch_size * 2], batch_size, bf16
            )
            for _ in range(repeats):
                plain.append(_plain_epoch(make, Xt, yt, batch_size, bf16))
                ours.append(_skfashion_epoch(cls, X, y, batch_size, precision)[0])
            p, o = statistics.median(plain), statistics.median(ours)
            row = {
                "net": name,
                "precision": precision,
                "batch": batch_size,
                "images": n,
                "plain_img_s": round(n / p),
                "skfashion_img_s": round(n / o),
                "skfashion/plain_time": round(o / p, 3),
            }
            if batch_size == 32:
                row["vs_keras"] = round(n / o / KERAS_IMG_S[name], 2)
            rows.append(row)
            print(f"  {row}", flush=True)
    # prediction on the 10,000 test images with the default precision
    Xtest = (test.data / np.float32(255)).astype(np.float32)
    for name, cls, n_fit in (("mlp", FashionMLP, 2000), ("cnn", FashionCNN, 256)):
        _, clf = _skfashion_epoch(cls, X_all[:n_fit], y_all[:n_fit], 32, "auto")
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            clf.predict_proba(Xtest)
            times.append(time.perf_counter() - start)
        rows.append(
            {
                "net": name,
                "precision": clf.precision_,
                "predict_10000_s": round(statistics.median(times), 2),
                "goal_s": 2 if name == "mlp" else 15,
            }
        )
    return rows
