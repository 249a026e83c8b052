"""``device`` and ``precision`` are resolved once per fit, into ``device_``
and ``precision_``, and the parameters are never rewritten; a model saved on
a GPU loads on the CPU through the same resolution."""

import pytest
from cases import NAMES, blobs, make

from skfashion import load_model, save_model
from skfashion.neural_network import _device


@pytest.mark.parametrize("name", NAMES)
def test_resolved_once_per_fit(name, monkeypatch):
    calls = []
    real = _device.resolve_device

    def counted(device):
        calls.append(device)
        return real(device)

    monkeypatch.setattr(_device, "resolve_device", counted)
    X, y = blobs()
    clf = make(name, device="auto", precision="auto").fit(X, y)
    assert calls == ["auto"]
    assert clf.device == "auto" and clf.precision == "auto"  # never rewritten
    assert clf.device_ == "cpu" and clf.precision_ in ("float32", "bfloat16")
    clf.partial_fit(X, y)  # continuing: what the first fit decided holds
    assert calls == ["auto"]


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_gpu_means_the_cpu_on_load_only(name, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the model would load there")
    X, y = blobs()
    clf = make(name).fit(X, y)
    clf.set_params(device="cuda")  # as a model trained on a GPU machine says
    save_model(clf, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="cuda"):
        clf.resolve_placement()  # training there would be refused
    loaded = load_model(tmp_path / "m.safetensors")
    assert loaded.device == "cuda" and loaded.device_ == "cpu"
    assert (loaded.predict(X) == clf.set_params(device="cpu").predict(X)).all()
