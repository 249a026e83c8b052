import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skfashion import (
    FashionCNN,
    FashionMLP,
    ImagePreprocessor,
    PixelScaler,
    _persistence,
    load_model,
    save_model,
)
from skfashion.cli import main


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

    monkeypatch.setattr(_persistence, "save_file", disk_full)
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
