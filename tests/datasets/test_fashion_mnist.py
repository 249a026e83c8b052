import hashlib
import shutil

import numpy as np
import pandas as pd
import pytest
import sklearn.datasets._base as sk_base

from skfashion import CLASS_NAMES, fetch_fashion_mnist
from skfashion.datasets import _fashion_mnist, load_idx, save_idx


# ---------------------------------------------------------------- real data
def test_real_train(fashion_train):
    d = fashion_train
    assert d.data.shape == (60000, 784) and d.data.dtype == np.uint8
    assert d.images.shape == (60000, 28, 28) and d.images.dtype == np.uint8
    assert np.shares_memory(d.data, d.images)
    assert d.target.dtype == np.int64
    assert d.target[:5].tolist() == [9, 0, 0, 3, 0]
    assert np.bincount(d.target).tolist() == [6000] * 10
    assert d.target_names == list(CLASS_NAMES)
    assert d.feature_names[0] == "pixel1" and len(d.feature_names) == 784
    assert "Zalando" in d.DESCR
    assert d.frame is None
    assert d.data.max() == 255 and d.data.min() == 0


def test_real_test_and_all(fashion_train, fashion_test):
    assert fashion_test.data.shape == (10000, 784)
    assert np.bincount(fashion_test.target).tolist() == [1000] * 10
    both = fetch_fashion_mnist(subset="all", download_if_missing=False)
    assert both.data.shape == (70000, 784)
    np.testing.assert_array_equal(both.data[:60000], fashion_train.data)
    np.testing.assert_array_equal(both.target[60000:], fashion_test.target)


def test_real_as_frame_and_return_X_y_agree(fashion_test):
    X, y = fetch_fashion_mnist(subset="test", return_X_y=True)
    np.testing.assert_array_equal(X, fashion_test.data)
    np.testing.assert_array_equal(y, fashion_test.target)
    f = fetch_fashion_mnist(subset="test", as_frame=True)
    assert isinstance(f.frame, pd.DataFrame) and f.frame.shape == (10000, 785)
    assert isinstance(f.data, pd.DataFrame) and isinstance(f.target, pd.Series)
    np.testing.assert_array_equal(f.data.to_numpy(), fashion_test.data)
    np.testing.assert_array_equal(f.frame["label"].to_numpy(), fashion_test.target)
    Xf, yf = fetch_fashion_mnist(subset="test", as_frame=True, return_X_y=True)
    assert list(Xf.columns) == f.feature_names
    np.testing.assert_array_equal(yf.to_numpy(), fashion_test.target)


def test_bad_subset():
    with pytest.raises(ValueError, match="subset must be one of"):
        fetch_fashion_mnist(subset="validation")


# ----------------------------------------------------------- synthetic data
@pytest.fixture
def fake_files(tmp_path, monkeypatch):
    """Small synthetic IDX files served in place of the real four."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (20, 28, 28), np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(20, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (10, 28, 28), np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.arange(10, dtype=np.uint8)[::-1].copy(),
    }
    served = tmp_path / "served"
    served.mkdir()
    checksums = {}
    for name, array in arrays.items():
        save_idx(served / name, array)
        raw = served / ("raw-" + name)
        save_idx(raw, array, compress=False)
        checksums[name] = hashlib.sha256(raw.read_bytes()).hexdigest()
        raw.unlink()
    monkeypatch.setattr(_fashion_mnist, "FILES", checksums)
    return served, arrays


def _serve(monkeypatch, served, fail_mirrors=()):
    calls = []

    def urlretrieve(url, filename):
        calls.append(url)
        if any(url.startswith(m) for m in fail_mirrors):
            raise ConnectionResetError("mirror down")
        shutil.copy(served / url.rsplit("/", 1)[1], filename)

    monkeypatch.setattr("sklearn.datasets.fetch_file", sk_base.fetch_file)
    monkeypatch.setattr(sk_base, "urlretrieve", urlretrieve)
    return calls


def test_missing_without_download_raises_helpful_oserror(isolated_data):
    with pytest.raises(OSError) as info:
        fetch_fashion_mnist(download_if_missing=False)
    msg = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "data_home" in msg and "SKFASHION_DATA" in msg


def test_offline_download_raises_helpful_oserror(isolated_data):
    with pytest.raises(OSError, match="could not be downloaded"):
        fetch_fashion_mnist()


def test_download_into_data_home(isolated_data, fake_files, monkeypatch):
    served, arrays = fake_files
    calls = _serve(monkeypatch, served, fail_mirrors=(_fashion_mnist.MIRRORS[0],))
    home = isolated_data / "home"
    d = fetch_fashion_mnist(subset="all", data_home=home)
    assert d.data.shape == (30, 784)
    np.testing.assert_array_equal(d.images[:20], arrays["train-images-idx3-ubyte.gz"])
    assert sorted(p.name for p in home.iterdir()) == sorted(_fashion_mnist.FILES)
    # the first mirror failed for each file, the second served it
    assert len(calls) == 8 and all(
        c.startswith(_fashion_mnist.MIRRORS[i % 2]) for i, c in enumerate(calls)
    )
    # second load: found in data_home, nothing downloaded
    fetch_fashion_mnist(data_home=home)
    assert len(calls) == 8


def test_interrupted_download_leaves_nothing(isolated_data, fake_files, monkeypatch):
    served, _ = fake_files

    def half_then_fail(url, filename):
        with open(filename, "wb") as f:
            f.write(b"\x1f\x8b partial")
        raise ConnectionResetError("connection lost half-way")

    monkeypatch.setattr("sklearn.datasets.fetch_file", sk_base.fetch_file)
    monkeypatch.setattr(sk_base, "urlretrieve", half_then_fail)
    home = isolated_data / "home"
    with pytest.raises(OSError, match="connection lost half-way"):
        fetch_fashion_mnist(data_home=home)
    assert list(home.iterdir()) == []


def test_search_order(isolated_data, fake_files, monkeypatch):
    served, _ = fake_files
    system = isolated_data / "system"
    shutil.copytree(served, system)
    env = isolated_data / "env"
    shutil.copytree(served, env)
    monkeypatch.setenv("SKFASHION_DATA", str(env))
    sources = {s for _, _, s in _fashion_mnist.locate_fashion_mnist()}
    assert sources == {"environment"}
    home = isolated_data / "home"
    shutil.copytree(served, home)
    assert {s for *_, s in _fashion_mnist.locate_fashion_mnist(home)} == {"data_home"}
    monkeypatch.delenv("SKFASHION_DATA")
    assert {s for *_, s in _fashion_mnist.locate_fashion_mnist()} == {"system"}
    assert fetch_fashion_mnist(subset="test").data.shape == (10, 784)


def test_corrupt_cached_file_is_refetched(isolated_data, fake_files, monkeypatch):
    served, arrays = fake_files
    home = isolated_data / "home"
    shutil.copytree(served, home)
    save_idx(home / "t10k-labels-idx1-ubyte.gz", np.zeros(10, np.uint8))
    calls = _serve(monkeypatch, served)
    with pytest.warns(UserWarning, match="checksum mismatch"):
        d = fetch_fashion_mnist(subset="test", data_home=home)
    np.testing.assert_array_equal(d.target, arrays["t10k-labels-idx1-ubyte.gz"])
    assert len(calls) == 1
    np.testing.assert_array_equal(
        load_idx(home / "t10k-labels-idx1-ubyte.gz"),
        arrays["t10k-labels-idx1-ubyte.gz"],
    )


def test_corrupt_file_without_download_raises(isolated_data, fake_files):
    served, _ = fake_files
    home = isolated_data / "home"
    shutil.copytree(served, home)
    (home / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        fetch_fashion_mnist(data_home=home, download_if_missing=False)


def test_corrupt_system_file_raises(isolated_data, fake_files, monkeypatch):
    served, _ = fake_files
    system = isolated_data / "system"
    shutil.copytree(served, system)
    save_idx(system / "t10k-images-idx3-ubyte.gz", np.zeros((10, 28, 28), np.uint8))
    calls = _serve(monkeypatch, served)
    with pytest.raises(ValueError, match="checksum mismatch"):
        fetch_fashion_mnist(subset="test")
    assert calls == []
