"""Classes a model never learned: the mask of the learned ones, and each
detector's scores of the held-out images against the learned ones."""

import numpy as np
import pytest
from cases import CASE_IDS, CASES, data_for, make

from skfashion.evaluation import (
    HELD_OUT_SPLITS,
    detection_scores,
    held_out_class_detection,
    held_out_classes,
)
from skfashion.novelty import METHODS, NoveltyDetector


def test_splits_hold_out_every_class_once():
    assert sorted(c for split in HELD_OUT_SPLITS for c in split) == list(range(10))


def test_learned_mask_and_bad_splits():
    y = np.array([0, 1, 2, 2, 1])
    np.testing.assert_array_equal(
        held_out_classes(y, [2]), [True, True, False, False, True]
    )
    with pytest.raises(ValueError, match=r"\[7\] given that are not in it"):
        held_out_classes(y, [2, 7])
    with pytest.raises(ValueError, match="none is left to learn"):
        held_out_classes(y, [0, 1, 2])
    with pytest.raises(ValueError, match="must name classes of y"):
        held_out_classes(y, [])


@pytest.mark.parametrize(("name", "pipeline"), CASES, ids=CASE_IDS)
def test_each_detector_scores_the_held_out_class(name, pipeline):
    """Trained on two of the three classes, each detector's numbers are
    those of a NoveltyDetector fitted alone, scoring the third class
    against unseen images of the two."""
    X, y = data_for(pipeline, n_per_class=60)
    learned = held_out_classes(y, [2])
    X_learned, y_learned = X[learned], y[learned]
    train, fit, test = slice(0, None, 3), slice(1, None, 3), slice(2, None, 3)
    model = make(name, pipeline).fit(X_learned[train], y_learned[train])
    assert list(model.classes_) == [0, 1]
    scores = held_out_class_detection(
        model, X_learned[fit], y_learned[fit], X_learned[test], X[~learned]
    )
    assert list(scores) == list(METHODS)
    for method, row in scores.items():
        alone = NoveltyDetector(model, method=method, random_state=0)
        alone.fit(X_learned[fit], y_learned[fit])
        expected = detection_scores(
            alone.score_samples(X_learned[test]), alone.score_samples(X[~learned])
        )
        assert row == expected, method
        assert 0 <= row["auroc"] <= 1 and 0 <= row["fpr_at_tpr"] <= 1
    # the held-out class is bright where neither learned class is: some
    # detector tells it apart better than chance, by a margin
    assert max(row["auroc"] for row in scores.values()) > 0.7
