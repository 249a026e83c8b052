"""GridSearchCV over a skfashion pipeline: n_jobs=1 vs n_jobs=2 vs a local Dask
cluster (2 workers x 1 thread). Goal: n_jobs=2 not slower than n_jobs=1.

The same grid (4 candidates of ``FashionMLP``: two learning rates, a small and
the report's network) at two sizes:

- ``small``: 2 folds of 6,000 images, 2 epochs (8 fits of about half a second);
- ``typical``: 3 folds of 15,000 images, 4 epochs (12 fits of 2-6 seconds),
  the size of a first real tuning run.

(``--quick``: 2,000 and 4,000 images.) Each parallel backend is timed twice:
``cold``, with freshly started worker processes that still have to import
PyTorch and scikit-learn, and ``warm``, the next search on the same workers
(joblib keeps its process pool between searches; a Dask cluster lives until it
is closed). joblib's workers get OMP_NUM_THREADS = cores // n_jobs and Dask's
nanny sets it to 1, so no run oversubscribes the cores. ``max_score_diff`` is
the largest difference of a mean test score from the ``n_jobs=1`` search: one-
and two-threaded reductions round differently, so scores agree closely but not
bit for bit.
"""

import os
import time

import joblib
import numpy as np
from joblib.externals.loky import get_reusable_executor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skfashion import FashionMLP, PixelScaler, fetch_fashion_mnist

GRID = {
    "fashionmlp__lr": [1e-4, 1e-3],
    "fashionmlp__hidden_units": [(256,), (1024, 512, 256)],
}
#: name -> (images, epochs, folds), full and --quick
SIZES = {
    "small": ((6000, 2, 2), (2000, 2, 2)),
    "typical": ((15000, 4, 3), (4000, 2, 3)),
}


def _search(n_jobs, epochs, cv, grid=GRID):
    pipe = make_pipeline(
        PixelScaler(),
        FashionMLP(max_epochs=epochs, validation_split=None, random_state=0),
    )
    return GridSearchCV(pipe, grid, cv=cv, n_jobs=n_jobs)


def _timed(fn):
    start = time.perf_counter()
    search = fn()
    return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def _tiny_fit():
    """Import and fit once in a worker, as its first search would."""
    X = np.random.RandomState(0).uniform(size=(64, 784)).astype(np.float32)
    y = np.arange(64) % 10
    FashionMLP(max_epochs=1, validation_split=None, verbose=0).fit(X, y)


def _dask_runs(search):
    """Searches on new 2-worker LocalClusters; [] without ``distributed``.

    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers (and in
    the process that starts it), which makes PyTorch training about twice as
    slow; the recommended configuration unsets it (docs: "Scaling out").
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        return []
    trim = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    runs = []
    for unset in (True, False):
        environ = dict(os.environ)
        try:
            with (
                dask.config.set({trim: None} if unset else {}),
                LocalCluster(
                    n_workers=2,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=40,
                ) as cluster,
                Client(cluster) as client,
            ):

                def fit():
                    with joblib.parallel_backend("dask"):
                        return search(-1)

                if unset:
                    runs.append(("dask cold", *_timed(fit)))
                else:
                    client.run(_tiny_fit)
                runs.append(
                    ("dask warm" if unset else "dask warm, trim 65536", *_timed(fit))
                )
        finally:  # the nanny writes its worker variables into os.environ
            os.environ.clear()
            os.environ.update(environ)
    return runs


def run(quick):
    X_all, y_all = fetch_fashion_mnist(subset="train", return_X_y=True)
    # warm up this process (imports, first fit) so n_jobs=1 is not charged for it
    _search(1, 1, 2, {"fashionmlp__lr": [1e-3]}).fit(X_all[:2000], y_all[:2000])
    rows = []
    for name, (full, small) in SIZES.items():
        n, epochs, cv = small if quick else full
        X, y = X_all[:n], y_all[:n]

        def search(n_jobs, X=X, y=y, epochs=epochs, cv=cv):
            return _search(n_jobs, epochs, cv).fit(X, y)

        runs = [("n_jobs=1", *_timed(lambda: search(1)))]
        get_reusable_executor().shutdown(wait=True)  # a cold process pool
        runs.append(("n_jobs=2 cold", *_timed(lambda: search(2))))
        runs.append(("n_jobs=2 warm", *_timed(lambda: search(2))))
        runs.extend(_dask_runs(search))
        base, base_scores = runs[0][1], runs[0][2]
        for backend, seconds, scores in runs:
            rows.append(
                {
                    "search": f"{name} ({n} images, {epochs} epochs, {cv} folds)",
                    "backend": backend,
                    "seconds": round(seconds, 1),
                    "vs_n_jobs=1": round(seconds / base, 2),
                    "max_score_diff": round(
                        float(np.abs(scores - base_scores).max()), 4
                    ),
                }
            )
    return rows
