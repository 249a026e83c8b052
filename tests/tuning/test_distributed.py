"""Hyper-parameter search on joblib's process pool and on a real Dask cluster."""

import os

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skfashion import FashionMLP

GRID = {"lr": [1e-2, 3e-2], "hidden_units": [(8,), (16,)]}


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 30)
    X = rng.uniform(size=(90, 12)).astype(np.float32)
    X[np.arange(90), y * 4] += 1
    return X, y


def _search(n_jobs=1, **params):
    base = FashionMLP(max_epochs=3, batch_size=16, random_state=0, **params)
    return GridSearchCV(base, GRID, cv=2, n_jobs=n_jobs)


def _threads_in_worker():
    import torch

    return torch.get_num_threads()


def test_process_pool_limits_torch_threads(data):
    # joblib's loky workers get OMP_NUM_THREADS = cores // n_jobs, which torch
    # reads at start-up: two fits on two cores use one thread each
    threads = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_threads_in_worker)() for _ in range(2)
    )
    assert all(t <= max(1, (os.cpu_count() or 1) // 2) for t in threads)
    X, y = data
    serial = _search(n_jobs=1).fit(X, y)
    parallel = _search(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )


distributed = pytest.importorskip("distributed")


def _worker_environment():
    return {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")}


@pytest.mark.slow
def test_recommended_dask_configuration_reaches_the_workers(client):
    environments = client.run(_worker_environment)
    assert len(environments) == 2
    for env in environments.values():
        assert env == {"OMP_NUM_THREADS": "1", "MALLOC_TRIM_THRESHOLD_": None}


@pytest.mark.slow
def test_dask_search_equals_serial(data, client):
    X, y = data
    threads = client.run(_threads_in_worker)
    assert all(t == 1 for t in threads.values())  # the nanny sets OMP_NUM_THREADS
    serial = _search(n_jobs=1).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_dask = _search(n_jobs=-1).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], on_dask.cv_results_["mean_test_score"]
    )


class DieOnce(Callback):
    """Kill the worker process in its first epoch, once per marker file."""

    def __init__(self, marker=None):
        self.marker = marker

    def on_epoch_begin(self, net, **kwargs):
        if self.marker and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)  # the whole worker process dies, like a crashed machine


@pytest.mark.slow
def test_dask_search_with_a_killed_worker_fails_clearly(data, client, tmp_path):
    """What happens when a worker process dies mid-search: joblib's Dask
    backend gives up on the lost batch, so the search fails with Dask's
    cancellation error (it does not hang, and the cluster recovers); running
    it again completes."""
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    X, y = data
    marker = str(tmp_path / "died")
    with pytest.raises((FutureCancelledError, KilledWorker)):
        with joblib.parallel_backend("dask"):
            _search(n_jobs=-1, callbacks=[DieOnce(marker)]).fit(X, y)
    assert os.path.exists(marker)  # a worker did die
    with joblib.parallel_backend("dask"):  # the restarted cluster works again
        again = _search(n_jobs=-1).fit(X, y)
    expected = _search(n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(
        again.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"]
    )
