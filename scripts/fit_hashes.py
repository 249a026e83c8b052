"""Hash each estimator's fit: history (durations masked) and probabilities.

A refactoring that must not change behaviour prints the same hashes before
and after (on the same machine: float results differ between CPU kinds).
Each estimator trains in float32 at a fixed seed on small synthetic images,
alone and after a PixelScaler.

Usage: python scripts/fit_hashes.py
"""

import hashlib
import json

import numpy as np
from sklearn.pipeline import make_pipeline

import skfashion

SIDE = 8
SETTINGS = {
    "FashionMLP": {"hidden_units": (32, 16), "lr": 1e-2},
    "FashionCNN": {
        "image_shape": (SIDE, SIDE),
        "filters": (4, 8),
        "kernel_size": 3,
        "dense_units": (8,),
        "lr": 1e-2,
    },
    "FastFashionCNN": {
        "image_shape": (SIDE, SIDE),
        "widths": (4, 8),
        "lr": 0.4,
        "norm_bias_lr": 8.0,
        "batch_size": 16,
    },
}


def data(n=240, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 4, n)
    X = rng.randint(0, 120, (n, SIDE * SIDE))
    for k in range(4):
        X[y == k, k * 16 : (k + 1) * 16] += 120
    return X.astype(np.uint8), y


def fit_hash(name, params):
    X, y = data()
    clf = getattr(skfashion, name)(
        max_epochs=3, random_state=0, precision="float32", **params
    )
    pipe = make_pipeline(skfashion.PixelScaler(), clf).fit(X, y)
    history = [{k: v for k, v in row.items() if k != "dur"} for row in clf.history_]
    digest = hashlib.sha256(json.dumps(history, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(pipe.predict_proba(X)).tobytes())
    return digest.hexdigest()[:16]


def main():
    for name, params in SETTINGS.items():
        print(f"{name:16} {fit_hash(name, params)}")


if __name__ == "__main__":
    main()
