"""A crafted *safe* model file has no effect beyond the model: nothing is
created on disk, no process is started, nothing is compiled, no layer is
allocated before its size is checked against the weights; and a malformed
header is a ValueError naming the file and the field, for every classifier."""

import json
import os

import numpy as np
import pytest
from cases import MAKERS, blobs, tiny_mlp
from safetensors import safe_open
from safetensors.torch import save_file

from skfashion import load_model, save_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each classifier, fitted on tiny data and saved: name -> (file, X)."""
    X, y = blobs(n_per_class=8)
    folder = tmp_path_factory.mktemp("saved")
    files = {}
    for name, make in MAKERS.items():
        path = folder / f"{name}.safetensors"
        save_model(make(max_epochs=1, random_state=0).fit(X, y), path)
        files[name] = path, X
    return files


def _crafted(path, tmp_path, change):
    """A copy of the file at ``path`` with its header changed by ``change``."""
    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()["skfashion"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    change(header)
    crafted = tmp_path / "crafted.safetensors"
    save_file(tensors, str(crafted), metadata={"skfashion": json.dumps(header)})
    return crafted


def _params(header):
    return header["steps"][-1]["params"]


@pytest.mark.parametrize("name", list(MAKERS))
def test_a_file_creates_no_folder_starts_no_worker_compiles_nothing(
    saved, tmp_path, name
):
    path, X = saved[name]
    where = tmp_path / "made-by-the-file"

    def change(header):
        params = _params(header)
        params["callbacks"] = [
            {
                "callback": "skorch.callbacks.Checkpoint",
                "params": {"dirname": str(where)},
            },
            {
                "tuple": [
                    "resume",
                    {
                        "callback": "skfashion.callbacks.ResumeCheckpoint",
                        "params": {"dirname": str(where / "resume")},
                    },
                ]
            },
            {"callback": "skorch.callbacks.EarlyStopping", "params": {"patience": 3}},
        ]
        params["callbacks__resume__dirname"] = str(where / "again")
        params["checkpoint_dir"] = str(where / "checkpoints")
        params["iterator_valid"] = {"class": "torch.utils.data.DataLoader"}
        params["iterator_valid__num_workers"] = 8
        params["iterator_train__num_workers"] = 8
        params["compile"] = True

    model = load_model(_crafted(path, tmp_path, change))
    proba = model.predict_proba(X)
    assert not where.exists()
    # what has effects came back at the class's defaults...
    defaults = type(model)().get_params(deep=False)
    for key in ("iterator_valid", "iterator_train", "compile", "checkpoint_dir"):
        assert model.get_params(deep=False)[key] is defaults[key], key
    params = model.get_params(deep=False)
    assert not any("num_workers" in key or "__dirname" in key for key in params)
    # ... what has none came back as stored
    [stop] = model.callbacks
    assert type(stop).__name__ == "EarlyStopping" and stop.patience == 3
    np.testing.assert_array_equal(proba, load_model(path).predict_proba(X))


def test_layer_sizes_are_checked_before_anything_is_allocated(
    saved, tmp_path, monkeypatch
):
    """A header asking for 10**9 hidden units is refused from its weights'
    shapes, without building the layer (which would take gigabytes)."""
    import torch

    path, _ = saved["mlp"]

    def change(header):
        _params(header)["hidden_units"] = [10**9]

    built = []
    real = torch.nn.Linear.__init__

    def linear(self, *args, **kwargs):
        device = kwargs.get("device") or torch.get_default_device()
        built.append(torch.device(device).type)
        real(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Linear, "__init__", linear)
    with pytest.raises(
        ValueError, match=r"crafted.safetensors: the weights do not fit"
    ):
        load_model(_crafted(path, tmp_path, change))
    assert built and set(built) == {"meta"}  # never on a real device


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda h: h.update(steps=[]), "steps"),
        (lambda h: h.update(steps={"a": 1}), "steps"),
        (lambda h: h["steps"].append(dict(h["steps"][0])), "steps[1].class"),
        (lambda h: h["steps"].pop(), "steps[0].class"),
        (lambda h: h["steps"][0].update(params=[1]), "steps[0]"),
        (lambda h: h["steps"][-1].update({"class": ["x"]}), "steps[1].class"),
        (lambda h: h.update(version="3"), "version"),
        (lambda h: h.update(version=True), "version"),
    ],
    ids=[
        "no steps",
        "steps an object",
        "a step after the classifier",
        "a transformer last",
        "params a list",
        "class a list",
        "version a string",
        "version a bool",
    ],
)
def test_a_malformed_header_is_a_value_error_naming_file_and_field(
    tmp_path, change, field
):
    from sklearn.pipeline import make_pipeline

    from skfashion import PixelScaler

    rng = np.random.RandomState(0)
    X, y = rng.randint(0, 256, (12, 16)), np.repeat([0, 1], 6)
    good = tmp_path / "good.safetensors"
    save_model(make_pipeline(PixelScaler(), tiny_mlp(max_epochs=1)).fit(X, y), good)
    with pytest.raises(ValueError) as info:
        load_model(_crafted(good, tmp_path, change))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'crafted.safetensors'}: malformed")
    assert f"field {field!r}" in message
    assert os.path.exists(good)
