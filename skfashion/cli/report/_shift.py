"""The report's "Under shift" step, on each model's first fit: its accuracy
on regenerated Fashion-MNIST-C (per corruption and severity, and mixed as
the published set), its calibration there, its selective accuracy, and how
well each novelty score tells the test images from images that are not
garments. Built from skfashion's public API only."""

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score

from skfashion.datasets import (
    CORRUPTIONS,
    NOT_GARMENTS,
    corrupt_images,
    make_not_garments,
)
from skfashion.evaluation import (
    detection_scores,
    selective_accuracy,
    selective_curve,
    temperature_calibration,
)
from skfashion.novelty import METHODS, NoveltyDetector

__all__ = ["SEVERITIES", "Shift", "shift_images", "under_shift"]

SEVERITIES = (1, 2, 3, 4, 5)
# test images per corruption and severity; test images the detectors score
# (in); images of each kind that is not a garment (out)
SIZES = {"n_cell": 500, "n_in": 2000, "n_out": 1000}
QUICK_SIZES = {"n_cell": 20, "n_in": 300, "n_out": 100}
COVERAGES = (0.9, 0.8)
DEFAULT = NoveltyDetector(None).method  # the method saved with the model


@dataclass
class Shift:
    """One model under shift: ``numbers`` (for metrics.json and report.md),
    what the figures draw, and the default detector, kept with the model."""

    numbers: dict
    curve: tuple  # coverage, accuracy of the clean test set
    scores: dict  # the default detector's scores: "test" and each kind
    detector: NoveltyDetector


def _sizes(n_test, quick):
    sizes = QUICK_SIZES if quick else SIZES
    return {k: min(v, n_test) if k != "n_out" else v for k, v in sizes.items()}


def shift_images(n_test, n_valid, quick):
    """Images the step predicts for one model (the estimate counts them)."""
    s = _sizes(n_test, quick)
    cells = len(CORRUPTIONS) * len(SEVERITIES) * s["n_cell"]
    out = (len(NOT_GARMENTS) + 1) * s["n_out"]
    # mixed set and its temperature; each detector fits on the validation
    # images and scores the test images and the strangers
    return cells + n_test + n_valid + len(METHODS) * (n_valid + s["n_in"] + out)


def _by_severity(pipe, X, y, n):
    """Accuracy per corruption and severity on the first ``n`` images: all
    75 sets predicted at once."""
    cells = [(c, s) for c in CORRUPTIONS for s in SEVERITIES]
    X_all = np.concatenate(
        [corrupt_images(X[:n], c, severity=s, random_state=0)[0] for c, s in cells]
    )
    right = (pipe.predict(X_all) == np.tile(y[:n], len(cells))).reshape(len(cells), n)
    table = {c: {} for c in CORRUPTIONS}
    for (c, s), hits in zip(cells, right, strict=True):
        table[c][str(s)] = float(hits.mean())
    return table


def _mixed(pipe, X, y, X_valid, y_valid):
    """The published set's way: one random corruption and severity per test
    image (seed 0); accuracy, per corruption, and calibration."""
    X_mixed, names, _ = corrupt_images(X, "mixed", random_state=0)
    proba = pipe.predict_proba(X_mixed)
    right = pipe.classes_[proba.argmax(axis=1)] == y
    numbers = {
        "mixed_accuracy": float(right.mean()),
        "mixed_accuracy_by_corruption": {
            c: float(right[names == c].mean())
            for c in CORRUPTIONS
            if (names == c).any()
        },
    }
    calibration = temperature_calibration(pipe, proba, X_valid, y_valid, X_mixed, y)
    numbers["mixed_ece"] = calibration["ece"]
    numbers["mixed_ece_temperature"] = calibration["ece_temperature"]
    return numbers


def _strangers(X_test, n):
    """The images that are not garments, and the test images upside down."""
    sets = {
        kind: make_not_garments(kind, n_samples=n, random_state=0)
        for kind in NOT_GARMENTS
    }
    sets["upside_down"] = corrupt_images(X_test[:n], "flip_up_down")[0]
    return sets


def _detectors(pipe, X_valid, y_valid, X_in, strangers):
    """AUROC, FPR at 95 % TPR and the share accepted, of each method on each
    set; the default method's detector and scores."""
    table, kept = {}, None
    for method in METHODS:
        detector = NoveltyDetector(pipe, method=method, random_state=0)
        detector.fit(X_valid, y_valid)
        inside = detector.score_samples(X_in)
        row = {"accepted_test": float((inside >= detector.offset_).mean())}
        scores = {"test": inside}
        for kind, X in strangers.items():
            outside = scores[kind] = detector.score_samples(X)
            row[kind] = {
                **detection_scores(inside, outside),
                "accepted": float((outside >= detector.offset_).mean()),
            }
        table[method] = row
        if method == DEFAULT:
            kept = detector, scores
    return table, kept


def under_shift(fit, data, quick):
    """The step for one model's first fit (a :class:`Shift`)."""
    pipe, X_test, y_test = fit.pipe, data.X_test, data.y_test
    valid = slice(0, data.n_valid)
    X_valid, y_valid = data.X[valid], data.y[valid]
    sizes = _sizes(len(y_test), quick)
    classes = pipe.classes_
    numbers = {
        "clean_accuracy": float(accuracy_score(y_test, fit.y_pred)),
        **_mixed(pipe, X_test, y_test, X_valid, y_valid),
        "accuracy_by_severity": _by_severity(pipe, X_test, y_test, sizes["n_cell"]),
        "n_per_severity": sizes["n_cell"],
        **{
            f"selective_accuracy_{round(100 * c)}": selective_accuracy(
                y_test, fit.proba, coverage=c, classes=classes
            )
            for c in COVERAGES
        },
    }
    strangers = _strangers(X_test, sizes["n_out"])
    table, (detector, scores) = _detectors(
        pipe, X_valid, y_valid, X_test[: sizes["n_in"]], strangers
    )
    numbers["detectors"] = table
    numbers["default_detector"] = DEFAULT
    numbers["n_in"], numbers["n_out"] = sizes["n_in"], sizes["n_out"]
    curve = selective_curve(y_test, fit.proba, classes=classes)
    return Shift(numbers, curve, scores, detector)
