"""Expected calibration error, its bins and the reliability diagram."""

import functools

import matplotlib
import numpy as np
import pytest

from skfashion import calibration_bins, expected_calibration_error, plot_reliability

matplotlib.use("Agg")


def test_ece_by_hand():
    # confidences 0.9 (right), 0.8 (wrong), 0.6 (right), 0.6 (wrong):
    # bins (0.867, 0.933]: 1 right at 0.9 -> gap 0.1; (0.733, 0.8]: 0 right
    # at 0.8 -> 0.8; (0.533, 0.6]: 1 of 2 at 0.6 -> 0.1
    y = np.array([0, 1, 2, 0])
    proba = np.array(
        [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.2, 0.2, 0.6], [0.2, 0.6, 0.2]]
    )
    expected = (0.1 + 0.8 + 2 * 0.1) / 4
    assert expected_calibration_error(y, proba) == pytest.approx(expected)
    bins = calibration_bins(y, proba)
    assert bins["count"].sum() == 4 and len(bins["count"]) == 15
    filled = bins["count"] > 0
    np.testing.assert_allclose(bins["accuracy"][filled], [0.5, 0.0, 1.0])
    np.testing.assert_allclose(bins["confidence"][filled], [0.6, 0.8, 0.9])
    assert np.isnan(bins["accuracy"][~filled]).all()


def test_ece_of_a_calibrated_and_an_overconfident_model():
    rng = np.random.RandomState(0)
    n = 200_000
    confidence = rng.uniform(0.5, 1.0, size=n)
    right = rng.uniform(size=n) < confidence  # right as often as it says
    proba = np.stack([confidence, 1 - confidence], axis=1)
    y = np.where(right, 0, 1)
    assert expected_calibration_error(y, proba) < 0.01
    # the same answers, said with certainty: the gap is the error rate
    sure = np.stack([np.ones(n), np.zeros(n)], axis=1)
    assert expected_calibration_error(y, sure) == pytest.approx(1 - right.mean())


def test_labels_are_matched_to_columns_by_classes():
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    y = np.array(["Bag", "Coat"])
    assert expected_calibration_error(y, proba, classes=["Bag", "Coat"]) == (
        pytest.approx(0.15)
    )
    # the other order: both wrong
    assert expected_calibration_error(y, proba, classes=["Coat", "Bag"]) == (
        pytest.approx(0.85)
    )


@pytest.mark.parametrize(
    "proba, classes, match",
    [
        (np.ones((3, 2)) / 2, None, "one row per label"),
        (np.ones(2) / 2, None, "shape"),
        (np.ones((2, 2)) / 2, [0, 1, 2], "2 columns but classes has 3"),
    ],
)
def test_bad_input_is_named(proba, classes, match):
    with pytest.raises(ValueError, match=match):
        expected_calibration_error([0, 1], proba, classes=classes)


def test_n_bins_is_checked():
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0], [[1.0, 0.0]], n_bins=0)


def test_reliability_diagram():
    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.55, 0.45]])
    ax = plot_reliability(y, proba, n_bins=5, label="model")
    bars = ax.patches[: (calibration_bins(y, proba, n_bins=5)["count"] > 0).sum()]
    assert [round(b.get_height(), 6) for b in bars] == [0.5, 1.0, 1.0]
    ece = expected_calibration_error(y, proba, n_bins=5)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"model: ECE {100 * ece:.2f} %" in texts


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.2, 0.5])
def test_smoothed_softmax_inverse_recovers_the_labels(eps):
    # the logits of the smoothed targets themselves map back to one-hot rows
    import torch

    from skfashion.neural_network import SmoothedSoftmaxInverse

    k = 10
    targets = (1 - eps) * torch.eye(k) + eps / k
    proba = SmoothedSoftmaxInverse(eps)(torch.log(targets)).numpy()
    np.testing.assert_allclose(proba, np.eye(k), atol=1e-5)
    # a row in between: shares below eps / K go to the floor, the rest keep
    # their order and sum to one
    logits = torch.tensor([[2.0, 1.0, 0.0, -3.0]])
    q = torch.softmax(logits, 1)
    proba = SmoothedSoftmaxInverse(0.2)(logits)
    assert torch.equal(proba.argsort(), q.argsort())
    assert abs(float(proba.sum()) - 1) < 1e-6
    assert float(proba[0, 3]) < 1e-5 < float(q[0, 3])


@pytest.mark.parametrize("kind", ["skfashion", "sklearn"])
def test_temperature_scaling_from_known_probabilities(kind, monkeypatch):
    """temperature_calibration gives the ECE of CalibratedClassifierCV's own
    probabilities; a skfashion classifier (no decision_function) is not run
    over the test images again: its given probabilities are scaled."""
    from cases import blobs, make
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    from skfashion.evaluation import temperature_calibration

    X, y = blobs(n_per_class=40)
    model = make("mlp") if kind == "skfashion" else LogisticRegression(C=100)
    model.fit(X[::2], y[::2])
    X_valid, y_valid, X_test, y_test = X[1::4], y[1::4], X[3::4], y[3::4]
    proba = model.predict_proba(X_test)
    every = np.arange(len(y_valid))  # a frozen model: one fold of them all
    scaled = CalibratedClassifierCV(
        FrozenEstimator(model), method="temperature", cv=[(every, every)]
    )
    expected = scaled.fit(X_valid, y_valid).predict_proba(X_test)
    seen = []
    real = type(model).predict_proba

    @functools.wraps(real)
    def counting(self, X):
        seen.append(len(X))
        return real(self, X)

    monkeypatch.setattr(type(model), "predict_proba", counting)
    numbers = temperature_calibration(model, proba, X_valid, y_valid, X_test, y_test)
    assert numbers["ece_temperature"] == expected_calibration_error(
        y_test, expected, classes=model.classes_
    )
    beta = scaled.calibrated_classifiers_[0].calibrators[0].beta_
    assert numbers["temperature"] == round(float(1 / beta), 4)
    if kind == "skfashion":
        assert sum(seen) == len(X_valid)  # the temperature's fit only


def test_temperature_scaling_on_a_few_validation_images_is_quiet():
    """Two validation images of a class (the report's quick mode has four):
    the temperature is fitted without scikit-learn's warning about five
    stratified folds, which a frozen model does not need."""
    import warnings

    from sklearn.linear_model import LogisticRegression

    from skfashion.evaluation import temperature_calibration

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(90, 3)), np.repeat([0, 1, 2], 30)
    X[y == 1] += 2
    model = LogisticRegression().fit(X, y)
    valid = np.r_[0:20, 30:50, 60:62]  # class 2: two images
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numbers = temperature_calibration(
            model, model.predict_proba(X), X[valid], y[valid], X, y
        )
    assert numbers["temperature"] > 0
