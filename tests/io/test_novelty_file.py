"""A novelty detector saved with its model: read back the same, without
running code, for every registered classifier and score; malformed entries
refused with the file and field named."""

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.base import clone

from skfashion import load_model, save_model
from skfashion.io import load_detector
from skfashion.novelty import METHODS, NoveltyDetector


@pytest.mark.parametrize("method", METHODS)
def test_a_detector_comes_back_as_it_was_saved(fitted, method, tmp_path):
    model, X, y = fitted
    detector = NoveltyDetector(model, method=method, random_state=0).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_model(model, path, detector=detector)
    again = load_detector(path)
    assert again.get_params(deep=False).keys() == detector.get_params(deep=False).keys()
    assert (again.method, again.accept, again.offset_) == (
        detector.method,
        detector.accept,
        detector.offset_,
    )
    np.testing.assert_allclose(
        again.score_samples(X), detector.score_samples(X), rtol=1e-6
    )
    np.testing.assert_array_equal(again.predict(X), detector.predict(X))
    # the model alone, as before
    np.testing.assert_array_equal(load_model(path).predict(X), model.predict(X))


def test_a_file_without_a_detector_says_so(fitted, tmp_path):
    model, X, _ = fitted
    save_model(model, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="holds no novelty detector"):
        load_detector(tmp_path / "m.safetensors")


def test_only_a_fitted_detector_of_that_model_is_saved(fitted, tmp_path):
    model, X, y = fitted
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="not fitted"):
        save_model(model, path, detector=NoveltyDetector(model))
    other = clone(model).fit(X, y)
    with pytest.raises(ValueError, match="wraps another"):
        save_model(model, path, detector=NoveltyDetector(other).fit(X))
    with pytest.raises(ValueError, match="must be a NoveltyDetector"):
        save_model(model, path, detector="mahalanobis")
    assert not path.exists()  # nothing half-written


def _rewrite(path, change_header=None, change_tensors=None):
    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()["skfashion"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if change_header:
        change_header(header)
    if change_tensors:
        change_tensors(tensors)
    save_file(tensors, str(path), metadata={"skfashion": json.dumps(header)})


@pytest.mark.parametrize(
    "change_header, change_tensors, message",
    [
        (lambda h: h["novelty"]["params"].update(method="knn"), None, "params.method"),
        (lambda h: h["novelty"]["params"].update(accept="x"), None, "params.accept"),
        (lambda h: h["novelty"]["params"].update(accept=2.0), None, "'novelty.params'"),
        (lambda h: h["novelty"].update(offset=None), None, "'novelty.offset'"),
        (lambda h: h["novelty"].update(offset=float("inf")), None, "not finite"),
        (lambda h: h.update(novelty=[]), None, "'novelty.params'"),
        (None, lambda t: t.pop("novelty.precision"), "missing 'precision'"),
        (
            None,
            lambda t: t.update({"novelty.covariance": torch.zeros(3, 3)}),
            "do not fit together",
        ),
        (
            None,
            lambda t: t.update(
                {
                    "novelty.class_means": torch.zeros(2, 5, dtype=torch.float64),
                    "novelty.covariance": torch.zeros(5, 5, dtype=torch.float64),
                    "novelty.precision": torch.zeros(5, 5, dtype=torch.float64),
                    "novelty.location": torch.zeros(5, dtype=torch.float64),
                }
            ),
            "do not fit the network's last layer",
        ),
        (
            None,
            lambda t: t.update({"novelty.alpha": torch.zeros(2, dtype=torch.float64)}),
            "unexpected 'novelty.alpha'",
        ),
    ],
    ids=[
        "method",
        "accept text",
        "accept 2",
        "offset null",
        "offset inf",
        "entry a list",
        "a tensor missing",
        "covariance shape",
        "features of another network",
        "a tensor of another method",
    ],
)
def test_a_malformed_detector_is_refused_naming_it(
    fitted, tmp_path, change_header, change_tensors, message
):
    model, X, y = fitted
    path = tmp_path / "m.safetensors"
    detector = NoveltyDetector(model, method="mahalanobis", random_state=0)
    save_model(model, path, detector=detector.fit(X, y))
    _rewrite(path, change_header, change_tensors)
    with pytest.raises(ValueError, match=message) as info:
        load_detector(path)
    assert str(path) in str(info.value)


def test_a_predictor_loads_the_detector_with_its_model(fitted, tmp_path):
    from skfashion.io import load_predictor

    model, X, y = fitted
    detector = NoveltyDetector(model, random_state=0).fit(X, y)
    save_model(model, tmp_path / "model.safetensors", detector=detector)
    predictor = load_predictor(tmp_path)
    assert predictor.describe().endswith("a novelty detector (energy)")
    scores, accepted = predictor.garment(X)
    np.testing.assert_allclose(scores, detector.score_samples(X), rtol=1e-6)
    np.testing.assert_array_equal(accepted, detector.predict(X) == 1)
    save_model(model, tmp_path / "model.safetensors")  # without one
    plain = load_predictor(tmp_path)
    assert plain.detector is None
    with pytest.raises(ValueError, match="no novelty detector"):
        plain.garment(X)
