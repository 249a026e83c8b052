"""GridSearchCV over a skfashion pipeline: n_jobs=1 vs n_jobs=2 vs a local Dask
cluster (2 workers x 1 thread). Goal: n_jobs=2 not slower than n_jobs=1.

4 candidates x 2 folds of FashionMLP on 6,000 images (``--quick``: 2,000),
2 epochs each. joblib's workers get OMP_NUM_THREADS = cores // n_jobs and
Dask's nanny sets it to 1, so no run oversubscribes the cores.
"""

import time

import joblib
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skfashion import FashionMLP, PixelScaler, fetch_fashion_mnist


def _search(n_jobs):
    pipe = make_pipeline(
        PixelScaler(),
        FashionMLP(max_epochs=2, validation_split=None, random_state=0),
    )
    grid = {
        "fashionmlp__lr": [1e-4, 1e-3],
        "fashionmlp__hidden_units": [(256,), (1024, 512, 256)],
    }
    return GridSearchCV(pipe, grid, cv=2, n_jobs=n_jobs)


def run(quick):
    X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
    n = 2000 if quick else 6000
    X, y = X[:n], y[:n]
    rows, scores = [], {}
    _search(1).set_params(param_grid={"fashionmlp__lr": [1e-3]}).fit(X, y)  # warm up
    for label, n_jobs in (("n_jobs=1", 1), ("n_jobs=2", 2)):
        start = time.perf_counter()
        search = _search(n_jobs).fit(X, y)
        rows.append(
            {"backend": label, "seconds": round(time.perf_counter() - start, 1)}
        )
        scores[label] = search.cv_results_["mean_test_score"]
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        rows.append({"backend": "dask", "seconds": "not installed"})
    else:
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            Client(cluster),
        ):
            start = time.perf_counter()
            with joblib.parallel_backend("dask"):
                search = _search(-1).fit(X, y)
            rows.append(
                {
                    "backend": "dask (2 workers)",
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
            scores["dask"] = search.cv_results_["mean_test_score"]
    base = rows[0]["seconds"]
    for row in rows:
        if isinstance(row["seconds"], float):
            row["vs_n_jobs=1"] = round(row["seconds"] / base, 2)
    rows.append(
        {
            "backend": "same cv scores",
            "seconds": bool(
                all(np.array_equal(s, scores["n_jobs=1"]) for s in scores.values())
            ),
        }
    )
    return rows
