"""NoveltyDetector: a scikit-learn novelty detector on every registered
classifier, alone and in a pipeline, for every score."""

import numpy as np
import pytest
from cases import N_CLASSES, SIDE, blobs, final
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skfashion.evaluation import detection_scores, fpr_at_tpr
from skfashion.novelty import METHODS, NoveltyDetector


def _strangers(pipeline, n=60, seed=1):
    """Images unlike any class: bright everywhere, or noise over the whole
    range, on the scale the model takes."""
    rng = np.random.RandomState(seed)
    bright = rng.uniform(0.7, 1.0, size=(n // 2, SIDE * SIDE))
    noise = rng.uniform(0, 1, size=(n - n // 2, SIDE * SIDE))
    X = np.vstack([bright, noise]).astype(np.float32)
    return (X * 255).round().astype(np.uint8) if pipeline else X


@pytest.mark.parametrize("method", METHODS)
def test_a_detector_accepts_its_images_and_leaves_the_model_alone(fitted, method):
    model, X, y = fitted
    before = model.predict_proba(X)
    detector = NoveltyDetector(model, method=method, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)  # no refit
    scores = detector.score_samples(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    labels = detector.predict(X)
    assert set(labels.tolist()) <= {-1, 1}
    np.testing.assert_array_equal(labels == 1, scores >= detector.offset_)
    # the threshold accepts `accept` of the held-out images (a fifth of 120:
    # 24), about that of all; the wrong way round it would accept 5 %
    assert 0.75 <= (labels == 1).mean() <= 1.0
    # cloned, a frozen model stays fitted (an unfrozen one would not)
    half = clone(NoveltyDetector(FrozenEstimator(model), method=method))
    half = half.set_params(accept=0.5, random_state=0).fit(X, y)
    assert 0.25 <= (half.predict(X) == 1).mean() <= 0.75
    assert half.offset_ > detector.offset_
    assert detector.n_features_in_ == X.shape[1]


def test_mahalanobis_tells_the_classes_from_strangers(fitted):
    model, X, y = fitted
    pipeline = hasattr(model, "steps")
    detector = NoveltyDetector(model, method="mahalanobis", random_state=0).fit(X, y)
    strangers = _strangers(pipeline)
    result = detection_scores(
        detector.score_samples(X), detector.score_samples(strangers)
    )
    assert result["auroc"] > 0.95, result
    assert (detector.predict(strangers) == -1).mean() > 0.8
    assert detector.class_means_.shape[0] == N_CLASSES
    # fitted on the model's own predictions when no labels are given
    unlabelled = NoveltyDetector(model, method="mahalanobis", random_state=0).fit(X)
    if (
        final(model).predict(X if not pipeline else model[:-1].transform(X)) == y
    ).all():
        np.testing.assert_allclose(unlabelled.offset_, detector.offset_, rtol=1e-6)


def test_the_same_seed_gives_the_same_detector(fitted):
    model, X, y = fitted
    a = NoveltyDetector(model, random_state=3).fit(X)
    b = NoveltyDetector(model, random_state=3).fit(X)
    assert a.offset_ == b.offset_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"method": "knn"}, "method must be one of"),
        ({"accept": 1.0}, "accept must be a number between 0 and 1"),
        ({"accept": True}, "accept must be"),
        ({"holdout": 0}, "holdout must be"),
    ],
)
def test_bad_parameters_are_named_in_fit(params, message):
    X, y = blobs()
    detector = NoveltyDetector(LogisticRegression(), **params)  # stored only
    assert detector.get_params()["estimator"].__class__ is LogisticRegression
    with pytest.raises(ValueError, match=message):
        detector.fit(X)


def test_what_is_not_a_fitted_skfashion_classifier_is_refused(fitted):
    X, y = blobs()
    with pytest.raises(ValueError, match="needs a skfashion classifier"):
        NoveltyDetector(LogisticRegression().fit(X, y)).fit(X)
    model, X, y = fitted
    with pytest.raises(NotFittedError):
        NoveltyDetector(clone(model)).fit(X)
    with pytest.raises(ValueError, match="at least 10 images"):
        NoveltyDetector(model).fit(X[:5])
    detector = NoveltyDetector(model, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        detector.predict(np.zeros((2, X.shape[1] + 1), X.dtype))
    with pytest.raises(NotFittedError):
        NoveltyDetector(model).predict(X)


def test_fpr_at_tpr_and_detection_scores():
    inside, outside = np.arange(100.0), np.arange(100.0) - 90  # overlap: 10
    # 95 % of the inliers: scores >= 5; outliers there: 5 of 100 (scores 5-9)
    assert fpr_at_tpr(inside, outside) == pytest.approx(0.05)
    assert fpr_at_tpr(inside, outside - 1000) == 0.0
    assert detection_scores(inside, outside - 1000)["auroc"] == 1.0
    with pytest.raises(ValueError, match="at least one score"):
        detection_scores([], [1.0])
    with pytest.raises(ValueError, match="finite"):
        fpr_at_tpr([np.nan], [1.0])
    with pytest.raises(ValueError, match="tpr must be in"):
        fpr_at_tpr([1.0], [0.0], tpr=0)
