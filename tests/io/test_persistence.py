import json
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skfashion import (
    FashionCNN,
    FashionMLP,
    ImagePreprocessor,
    PixelScaler,
    load_model,
    save_model,
)
from skfashion.cli import main
from skfashion.io import _model_file


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    y = np.repeat(["Bag", "Coat", "Sneaker"], 30)
    X = rng.randint(0, 100, size=(90, 36)).astype(np.uint8)
    for k in range(3):
        X[y == y[k * 30], k * 12 : (k + 1) * 12] += 150
    return X, y


def _mlp():
    return FashionMLP(hidden_units=(16, 8), lr=1e-2, max_epochs=3, random_state=0)


def _cnn():
    return FashionCNN(
        image_shape=(6, 6),
        filters=(4, 8),
        dense_units=(8,),
        lr=1e-2,
        max_epochs=3,
        random_state=0,
    )


def test_broken_files_raise_naming_the_file(data, tmp_path):
    X, y = data
    good = tmp_path / "good.safetensors"
    save_model(make_pipeline(PixelScaler(), _mlp()).fit(X, y), good)
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated.safetensors"):
        load_model(truncated)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="garbage.safetensors"):
        load_model(garbage)
    # right format, wrong architecture: the header says 32 hidden units
    tampered = tmp_path / "tampered.safetensors"
    assert raw.count(b"[16, 8]") == 1  # same length: the header stays valid
    tampered.write_bytes(raw.replace(b"[16, 8]", b"[32, 8]"))
    with pytest.raises(ValueError, match="tampered.safetensors.*do not fit"):
        load_model(tampered)
    with pytest.raises(ValueError, match="missing.safetensors"):
        load_model(tmp_path / "missing.safetensors")


def test_failed_save_keeps_previous_file(data, tmp_path, monkeypatch):
    X, y = data
    path = tmp_path / "m.safetensors"
    pipe = make_pipeline(PixelScaler(), _mlp()).fit(X, y)
    save_model(pipe, path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_model_file, "save_file", disk_full)
    with pytest.raises(OSError):
        save_model(pipe, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_unsupported_models_are_refused(data, tmp_path):
    X, y = data
    with pytest.raises(ValueError, match="not fitted|NotFitted"):
        save_model(_mlp(), tmp_path / "x")
    from sklearn.preprocessing import MinMaxScaler

    pipe = make_pipeline(MinMaxScaler(), _mlp()).fit(X, y)
    with pytest.raises(ValueError, match="MinMaxScaler step"):
        save_model(pipe, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_predict_cli_prefers_safe_file(data, tmp_path, capsys):
    from PIL import Image

    X, y = data
    folder = tmp_path / "cnn"
    folder.mkdir()
    pipe = make_pipeline(ImagePreprocessor(size=6), PixelScaler(), _cnn())
    pipe[-1].fit(X / 255, y)
    save_model(pipe, folder / "model.safetensors")
    (folder / "model.pkl").write_bytes(b"not a pickle: must not be read")
    img = tmp_path / "x.png"
    Image.fromarray(X[0].reshape(6, 6)).save(img)
    assert main(["predict", "--model", str(folder), "--top", "2", str(img)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(str(img)) and out.count("%") == 2


@pytest.mark.parametrize("where", ["header", "parameter"])
def test_deeply_nested_header_is_a_value_error(data, tmp_path, where):
    """A crafted header nested 100,000 brackets deep -- the whole header, or
    one parameter of an otherwise valid header -- is a malformed file like
    any other: a ValueError naming the file, not a RecursionError."""

    from safetensors import safe_open
    from safetensors.torch import save_file

    X, y = data
    good = tmp_path / "good.safetensors"
    save_model(_mlp().fit(X / 255, y), good)
    with safe_open(str(good), framework="pt") as f:
        text = f.metadata()["skfashion"]
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    deep = "[" * 100_000 + "]" * 100_000
    if where == "header":
        text = deep
    else:
        assert '"hidden_units": {"tuple": [16, 8]}' in text
        text = text.replace("[16, 8]", deep)
    crafted = tmp_path / "crafted.safetensors"
    save_file(tensors, str(crafted), metadata={"skfashion": text})
    with pytest.raises(ValueError, match="crafted.safetensors"):
        load_model(crafted)


FORMAT2 = Path(__file__).parents[1] / "data" / "format2"


def _header(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return f.metadata()["skfashion"], {k: f.get_tensor(k) for k in f.keys()}


def _stored_names(text):
    return set(re.findall(r'"(?:class|callback)": "([^"]+)"', text))


@pytest.mark.parametrize("name", ["mlp", "cnn", "fast"])
def test_files_of_0_1_0_load_and_predict_the_same(name):
    """Files written by skfashion 0.1.0 (format 2, private class paths; see
    tests/data/format2/make.py) load and predict the labels they predicted
    then. The probabilities were computed on the CPU that wrote them, in its
    precision (bfloat16 there): another CPU kind, or float32, gives the same
    probabilities only up to bfloat16's rounding of a tiny network's logits
    (8 bits of mantissa: a few 1e-3 relative), hence the tolerance; the
    well-separated blobs keep every label far from a tie."""
    path = FORMAT2 / f"{name}.safetensors"
    text, _ = _header(path)
    assert json.loads(text)["version"] == 2
    assert any(n.startswith("skfashion._") for n in _stored_names(text))
    expected = np.load(FORMAT2 / f"{name}-expected.npz")
    model = load_model(path)
    assert model.predict(expected["X"]).astype(str).tolist() == (
        expected["labels"].tolist()
    )
    np.testing.assert_allclose(
        model.predict_proba(expected["X"]), expected["proba"], atol=0.05
    )


@pytest.mark.parametrize("name", ["mlp", "cnn", "fast"])
def test_files_name_only_public_classes_of_the_table(name, tmp_path):
    """A model file names each class by its public path, every one of them
    in the explicit table; a 0.1.0 file saved again is written that way."""
    from skfashion.io import STORABLE

    path = tmp_path / "again.safetensors"
    save_model(load_model(FORMAT2 / f"{name}.safetensors"), path)
    text, _ = _header(path)
    names = _stored_names(text)
    assert json.loads(text)["version"] == 3
    assert names <= set(STORABLE)
    assert not [n for n in names if "._" in n]
    assert "skfashion.utils.ArrayLoader" in names  # the batch loader, by name


def test_callbacks_with_bookkeeping_attributes_are_stored(data, tmp_path):
    """skorch counts a callback's attributes without a trailing underscore as
    its parameters; the schedules' private bookkeeping is not one."""
    from skorch.callbacks import EarlyStopping

    from skfashion.callbacks import Lookahead, OneCycle, TriangularLR

    X, y = data
    clf = _mlp().set_params(
        callbacks=[OneCycle(pct_start=0.3), EarlyStopping(patience=4), Lookahead()]
    )
    clf.fit(X / 255, y)
    path = tmp_path / "m.safetensors"
    save_model(clf, path)
    again = load_model(path)
    kinds = [type(cb) for cb in again.callbacks]
    assert kinds == [OneCycle, EarlyStopping, Lookahead]
    assert again.callbacks[0].pct_start == 0.3
    assert (again.predict(X / 255) == clf.predict(X / 255)).all()
    clf.set_params(callbacks=[TriangularLR(peak=0.3)]).fit(X / 255, y)
    save_model(clf, path)
    assert load_model(path).callbacks[0].peak == 0.3


CRAFTED = [
    "pathlib.Path",
    "os.system",
    "builtins.eval",
    "torch.utils.data.Path",
    "skfashion._training.DataLoader",
    "skfashion._training.Path",
    "skfashion.callbacks.DataLoader",
    "skfashion.callbacks._resume.Path",
    "skfashion.io._model_file.Path",
    "skfashion.utils.atomic_write",
    "torch.optim.Optimizer.__init__",
    "torch.nn.Linear",
]


@pytest.mark.parametrize("crafted", CRAFTED)
@pytest.mark.parametrize("where", ["optimizer", "step", "callback"])
def test_crafted_class_names_are_refused(data, tmp_path, monkeypatch, crafted, where):
    """A file that names any class outside the table -- whatever module it
    is reached through -- is refused with a ValueError naming the file and
    the class, before any class of the file is called."""
    from safetensors.torch import save_file

    X, y = data
    good = tmp_path / "good.safetensors"
    save_model(make_pipeline(PixelScaler(), _mlp()).fit(X, y), good)
    text, tensors = _header(good)
    header = json.loads(text)
    step = header["steps"][-1]
    if where == "optimizer":
        step["params"]["optimizer"] = {"class": crafted}
    elif where == "step":
        step["class"] = crafted
    else:
        step["params"]["callbacks"] = [{"callback": crafted, "params": {}}]
    crafted_file = tmp_path / "crafted.safetensors"
    save_file(tensors, str(crafted_file), metadata={"skfashion": json.dumps(header)})
    built = []
    monkeypatch.setattr(
        PixelScaler, "__init__", lambda self, **kw: built.append(self) or None
    )
    with pytest.raises(ValueError, match=rf"crafted.safetensors.*{re.escape(crafted)}"):
        load_model(crafted_file)
    assert built == []  # the first step would be built first: nothing was


@pytest.mark.parametrize("listed", ["skfashion.callbacks.Lookahead", "torch.optim.SGD"])
def test_listed_classes_in_the_wrong_place_are_refused(data, tmp_path, listed):
    """A class of the table is still no pipeline step unless it is a
    classifier or transformer."""
    from safetensors.torch import save_file

    X, y = data
    good = tmp_path / "good.safetensors"
    save_model(_mlp().fit(X / 255, y), good)
    text, tensors = _header(good)
    header = json.loads(text)
    header["steps"][-1]["class"] = listed
    crafted = tmp_path / "crafted.safetensors"
    save_file(tensors, str(crafted), metadata={"skfashion": json.dumps(header)})
    with pytest.raises(ValueError, match="crafted.safetensors.*may name"):
        load_model(crafted)
