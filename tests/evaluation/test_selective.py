import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from skfashion.evaluation import selective_accuracy, selective_curve


def _predictions(n=500, seed=0):
    """Probabilities whose confidence tells right answers from wrong ones."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    logits = rng.normal(size=(n, 10))
    right = rng.random(n) < 0.8
    logits[np.arange(n), np.where(right, y, (y + 1) % 10)] += 2 + 3 * right
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_full_coverage_is_the_accuracy_and_less_is_more_accurate():
    y, proba = _predictions()
    accuracy = accuracy_score(y, proba.argmax(axis=1))
    assert selective_accuracy(y, proba, coverage=1.0) == accuracy
    at_90 = selective_accuracy(y, proba, coverage=0.9)
    at_50 = selective_accuracy(y, proba, coverage=0.5)
    assert accuracy < at_90 < at_50 <= 1.0
    coverage, curve = selective_curve(y, proba)
    assert coverage[-1] == 1.0 and curve[-1] == accuracy
    assert curve[len(y) // 2 - 1] == at_50
    # the k most confident answers, counted by hand
    order = np.argsort(-proba.max(axis=1))
    k = 450
    assert at_90 == (proba[order[:k]].argmax(axis=1) == y[order[:k]]).mean()


def test_labels_follow_the_columns_classes():
    y, proba = _predictions()
    classes = np.arange(10) * 7
    assert selective_accuracy(7 * y, proba, coverage=0.8, classes=classes) == (
        selective_accuracy(y, proba, coverage=0.8)
    )


@pytest.mark.parametrize("coverage", [0, -0.1, 1.5, "all"])
def test_a_coverage_outside_zero_to_one_is_refused(coverage):
    y, proba = _predictions(20)
    with pytest.raises(ValueError, match="coverage"):
        selective_accuracy(y, proba, coverage=coverage)


def test_one_row_of_probabilities_per_label():
    y, proba = _predictions(20)
    with pytest.raises(ValueError, match="one row per label"):
        selective_curve(y[:-1], proba)
