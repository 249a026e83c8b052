import os

import numpy as np
import pytest
import torch
from cases import CASE_IDS, CASES, data_for, make
from cases import blobs as cases_blobs
from hypothesis import HealthCheck, settings

from skfashion.datasets import _fashion_mnist

# the scripts that wrote the fixture files there import old versions
collect_ignore_glob = ["data/*"]

# Fuzzing: the same examples on every run by default (CI), so a failure is
# a real regression, not a lucky draw; HYPOTHESIS_PROFILE=explore searches
# wider and at random (add what it finds as @example).
_FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
settings.register_profile(
    "ci", max_examples=60, derandomize=True, database=None, **_FUZZ
)
settings.register_profile("explore", max_examples=1500, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """Under pytest-xdist (``-n``), the workers share the cores: each trains
    on its share of them, as PyTorch would oversubscribe them otherwise."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        torch.set_num_threads(max(1, torch.get_num_threads() // int(workers)))


@pytest.fixture(autouse=True)
def _seed():
    """Tests are deterministic: seed NumPy and torch's global generators."""
    np.random.seed(0)
    torch.manual_seed(0)


def _real_data_available():
    try:
        return all(
            source != "missing"
            for _, _, source in _fashion_mnist.locate_fashion_mnist()
        )
    except OSError:
        return False


@pytest.fixture(scope="session")
def fashion_train():
    """The real Fashion-MNIST training set (skipped where it is absent).

    CI sets ``SKFASHION_REQUIRE_DATA=1`` so that missing data fails instead.
    """
    if not _real_data_available():
        if os.environ.get("SKFASHION_REQUIRE_DATA"):
            pytest.fail("Fashion-MNIST is required (SKFASHION_REQUIRE_DATA): absent")
        pytest.skip("Fashion-MNIST absent (apt-get install dataset-fashion-mnist)")
    return _fashion_mnist.fetch_fashion_mnist(subset="train", download_if_missing=False)


@pytest.fixture(scope="session")
def fashion_test(fashion_train):
    return _fashion_mnist.fetch_fashion_mnist(subset="test", download_if_missing=False)


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """No real data anywhere: empty scikit-learn home, no system copy, no env."""
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_home"))
    monkeypatch.delenv("SKFASHION_DATA", raising=False)
    monkeypatch.setattr(_fashion_mnist, "SYSTEM_DATA_DIR", tmp_path / "system")

    def no_network(url, folder=None, local_filename=None, **kwargs):
        raise OSError(f"network disabled in tests: {url}")

    # imported by the loader only when it downloads
    monkeypatch.setattr("sklearn.datasets.fetch_file", no_network)
    return tmp_path


#: the configuration "Scaling out" recommends: Dask's nanny would otherwise set
#: MALLOC_TRIM_THRESHOLD_=65536 in its workers, which halves PyTorch's speed
NO_TRIM = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@pytest.fixture(scope="module")
def client():
    """A local Dask cluster of two one-thread worker processes (skipped
    without the distributed extra)."""
    distributed = pytest.importorskip("distributed")
    import dask

    environ = dict(os.environ)
    with dask.config.set(NO_TRIM):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        )
    client = distributed.Client(cluster, timeout="60s")
    yield client
    client.close()
    cluster.close()
    # the nanny writes its workers' variables (OMP_NUM_THREADS=1, ...) into this
    # process's environment; later tests start subprocesses
    os.environ.clear()
    os.environ.update(environ)


@pytest.fixture(scope="session")
def mlp_folder(fashion_train, tmp_path_factory):
    """A FashionMLP pipeline trained briefly on real images (85 % or so),
    saved as a report's model folder: (the pipeline, the folder)."""
    from sklearn.pipeline import make_pipeline

    from skfashion import FashionMLP, PixelScaler, save_model

    folder = tmp_path_factory.mktemp("mlp")
    pipe = make_pipeline(
        PixelScaler(),
        FashionMLP(
            max_epochs=3, random_state=0, validation_split=None, precision="float32"
        ),
    )
    pipe.fit(fashion_train.data[:5000], fashion_train.target[:5000])
    save_model(pipe, folder / "model.safetensors")
    return pipe, folder


@pytest.fixture(scope="module", params=CASES, ids=CASE_IDS)
def fitted(request):
    """(model, X, y) for each case of cases.py, fitted once per test module
    with validation."""
    name, pipeline = request.param
    X, y = data_for(pipeline)
    model = make(name, pipeline, validation_split=0.25).fit(X, y)
    return model, X, y


@pytest.fixture
def interrupt_fits(monkeypatch):
    """``interrupt_fits(name)``: from then on, a report's fit of the model
    ``name`` in this process raises ``KeyboardInterrupt`` as it starts, as a
    Ctrl-C there would."""
    from skfashion.experiments import _run_report

    real = _run_report._fit_here

    def interrupt(name):
        def fit(job, *args):
            if job.name == name:
                raise KeyboardInterrupt
            return real(job, *args)

        monkeypatch.setattr(_run_report, "_fit_here", fit)

    return interrupt


@pytest.fixture(scope="module")
def blobs():
    """Three well-separated classes of 6x6 'images' (36 features)."""
    return cases_blobs()
