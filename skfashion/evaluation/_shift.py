"""A fitted model under shift, measured once for the report, the benchmark
and the gallery: its accuracy on regenerated Fashion-MNIST-C (per corruption
and severity, and mixed as the published set), its calibration there, its
selective accuracy, and how well each novelty score tells the test images
from images that are not garments; and the figures of those numbers."""

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..datasets import CORRUPTIONS, NOT_GARMENTS, corrupt_images, make_not_garments
from ..novelty import METHODS, fit_detectors
from ._detection import detection_scores
from ._selective import selective_accuracy, selective_curve
from ._summary import temperature_calibration

__all__ = [
    "SEVERITIES",
    "STRANGERS",
    "ShiftEvaluation",
    "evaluate_under_shift",
    "plot_novelty_scores",
    "plot_selective_curve",
    "plot_shift_accuracy",
    "shift_prediction_count",
]

SEVERITIES = (1, 2, 3, 4, 5)
#: The sets of images that are not garments, each detector scored against
#: them: :func:`~skfashion.datasets.make_not_garments`'s kinds and the test
#: images upside down (near out-of-distribution).
STRANGERS = (*NOT_GARMENTS, "upside_down")


@dataclass
class ShiftEvaluation:
    """What :func:`evaluate_under_shift` measured of one model.

    Attributes
    ----------
    numbers : dict
        Every number, JSON-ready: ``clean_accuracy``, ``mixed_accuracy``,
        ``mixed_accuracy_by_corruption``, ``mixed_ece`` and
        ``mixed_ece_temperature``, ``accuracy_by_severity`` (corruption ->
        severity as a string -> accuracy), ``n_per_severity``,
        ``selective_accuracy_90`` (and each coverage asked), ``detectors``
        (method -> ``accepted_test`` and, per set of :data:`STRANGERS`, its
        AUROC, FPR at 95 % TPR and share accepted), ``default_detector``,
        ``n_in`` and ``n_out``.
    curve : tuple of two ndarrays
        Coverage and selective accuracy on the clean test images
        (:func:`selective_curve`).
    scores : dict of ndarray
        The default detector's scores: ``"test"`` and each set of strangers.
    detector : NoveltyDetector
        The default method's fitted detector (the one a model file keeps).
    """

    numbers: dict
    curve: tuple
    scores: dict
    detector: object


_SIZE = Interval(numbers.Integral, 1, None, closed="left")


def _by_severity(estimator, X, y, n):
    """Accuracy per corruption and severity on the first ``n`` images: all
    75 sets predicted at once."""
    cells = [(c, s) for c in CORRUPTIONS for s in SEVERITIES]
    X_all = np.concatenate(
        [corrupt_images(X[:n], c, severity=s, random_state=0)[0] for c, s in cells]
    )
    predicted = estimator.predict(X_all)
    right = (predicted == np.tile(y[:n], len(cells))).reshape(len(cells), n)
    table = {c: {} for c in CORRUPTIONS}
    for (c, s), hits in zip(cells, right, strict=True):
        table[c][str(s)] = float(hits.mean())
    return table


def _mixed(estimator, X, y, X_valid, y_valid):
    """The published set's way: one random corruption and severity per test
    image (seed 0); accuracy, per corruption, and calibration."""
    X_mixed, names, _ = corrupt_images(X, "mixed", random_state=0)
    proba = estimator.predict_proba(X_mixed)
    right = estimator.classes_[proba.argmax(axis=1)] == y
    result = {
        "mixed_accuracy": float(right.mean()),
        "mixed_accuracy_by_corruption": {
            c: float(right[names == c].mean())
            for c in CORRUPTIONS
            if (names == c).any()
        },
    }
    calibration = temperature_calibration(
        estimator, proba, X_valid, y_valid, X_mixed, y
    )
    result["mixed_ece"] = calibration["ece"]
    result["mixed_ece_temperature"] = calibration["ece_temperature"]
    return result


def _strangers(X_test, n):
    """The images that are not garments, and the test images upside down."""
    sets = {
        kind: make_not_garments(kind, n_samples=n, random_state=0)
        for kind in NOT_GARMENTS
    }
    sets["upside_down"] = corrupt_images(X_test[:n], "flip_up_down")[0]
    return sets


def _detectors(estimator, X_valid, y_valid, X_in, strangers, default, random_state):
    """AUROC, FPR at 95 % TPR and the share accepted, of each method on each
    set; the default method's detector and scores. One forward pass of each
    set serves every method."""
    detectors, all_scores = fit_detectors(
        estimator,
        X_valid,
        y_valid,
        sets={"test": X_in, **strangers},
        random_state=random_state,
    )
    table = {}
    for method, detector in detectors.items():
        scores = all_scores[method]
        inside = scores["test"]
        row = {"accepted_test": float((inside >= detector.offset_).mean())}
        for kind in strangers:
            outside = scores[kind]
            row[kind] = {
                **detection_scores(inside, outside),
                "accepted": float((outside >= detector.offset_).mean()),
            }
        table[method] = row
    return table, (detectors[default], all_scores[default])


@validate_params(
    {
        "estimator": [object],
        "X_test": ["array-like"],
        "y_test": ["array-like"],
        "X_valid": ["array-like"],
        "y_valid": ["array-like"],
        "proba": ["array-like", None],
        "n_per_severity": [_SIZE],
        "n_in": [_SIZE],
        "n_out": [_SIZE],
        "coverages": ["array-like"],
        "detector": [StrOptions(set(METHODS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_under_shift(
    estimator,
    X_test,
    y_test,
    X_valid,
    y_valid,
    *,
    proba=None,
    n_per_severity=500,
    n_in=2000,
    n_out=1000,
    coverages=(0.9, 0.8),
    detector="energy",
    random_state=0,
):
    """Measure a fitted classifier under shift.

    On regenerated Fashion-MNIST-C (:func:`~skfashion.datasets.corrupt_images`,
    seed 0): the accuracy on the mixed set (one random corruption at a random
    severity per test image, as the published set) and per corruption of it,
    its calibration error there before and after temperature scaling (fitted
    on the validation images), and the accuracy per corruption and severity
    on the first ``n_per_severity`` test images. On the clean test images:
    the selective accuracy at each of ``coverages``. And for each novelty
    score of :class:`~skfashion.novelty.NoveltyDetector` (fitted on the
    validation images): how well it tells the first ``n_in`` test images
    from ``n_out`` images of each set of :data:`STRANGERS` (AUROC, FPR at
    95 % TPR, the share accepted).

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        Raw pixels in, with ``predict``, ``predict_proba`` and ``classes_``
        (a pipeline starting with :class:`~skfashion.PixelScaler`).
    X_test, y_test : array-like of shape (n_test, 784) and (n_test,)
        The clean test images (raw pixels, 0-255) and their labels.
    X_valid, y_valid : array-like of shape (n_valid, 784) and (n_valid,)
        Images the model was not trained on: they fit the temperature and
        the detectors.
    proba : array-like of shape (n_test, n_classes), default=None
        ``estimator.predict_proba(X_test)`` if already computed.
    n_per_severity : int, default=500
        Test images of each corruption and severity.
    n_in : int, default=2000
        Test images the detectors score.
    n_out : int, default=1000
        Images of each set that is not garments.
    coverages : array-like of float, default=(0.9, 0.8)
        Coverages of the selective accuracy.
    detector : str, default="energy"
        The method whose fitted detector and scores are returned.
    random_state : int, RandomState instance or None, default=0
        Seeds the detectors' validation split (the corruptions and the
        strangers are always seeded 0, so that two models meet the same
        images).

    Returns
    -------
    result : ShiftEvaluation
        The numbers, the selective accuracy curve, the default detector and
        its scores.

    See Also
    --------
    plot_shift_accuracy, plot_selective_curve, plot_novelty_scores : Its figures.
    skfashion.datasets.make_fashion_mnist_c : The mixed set on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfashion import FashionMLP, PixelScaler
    >>> from skfashion.evaluation import evaluate_under_shift
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, (120, 784)).astype(np.uint8)
    >>> y = np.arange(120) % 10
    >>> model = make_pipeline(PixelScaler(), FashionMLP(
    ...     hidden_units=(8,), max_epochs=1, train_split=None, verbose=0,
    ...     random_state=0)).fit(X, y)
    >>> result = evaluate_under_shift(model, X[:40], y[:40], X[40:], y[40:],
    ...                               n_per_severity=5, n_in=40, n_out=20)
    >>> sorted(result.numbers["detectors"]) == sorted(
    ...     ["mahalanobis", "energy", "msp", "vim"])
    True
    >>> 0 <= result.numbers["mixed_accuracy"] <= 1
    True
    """
    X_test, y_test = np.asarray(X_test), np.asarray(y_test)
    X_valid, y_valid = np.asarray(X_valid), np.asarray(y_valid)
    if proba is None:
        proba = estimator.predict_proba(X_test)
    proba = np.asarray(proba)
    classes = estimator.classes_
    n_cell, n_in = min(n_per_severity, len(y_test)), min(n_in, len(y_test))
    result = {
        "clean_accuracy": float(accuracy_score(y_test, classes[proba.argmax(axis=1)])),
        **_mixed(estimator, X_test, y_test, X_valid, y_valid),
        "accuracy_by_severity": _by_severity(estimator, X_test, y_test, n_cell),
        "n_per_severity": n_cell,
        **{
            f"selective_accuracy_{round(100 * c)}": selective_accuracy(
                y_test, proba, coverage=c, classes=classes
            )
            for c in coverages
        },
    }
    strangers = _strangers(X_test, n_out)
    table, (kept, scores) = _detectors(
        estimator, X_valid, y_valid, X_test[:n_in], strangers, detector, random_state
    )
    result["detectors"] = table
    result["default_detector"] = detector
    result["n_in"], result["n_out"] = n_in, n_out
    curve = selective_curve(y_test, proba, classes=classes)
    return ShiftEvaluation(result, curve, scores, kept)


def shift_prediction_count(
    n_test, n_valid, *, n_per_severity=500, n_in=2000, n_out=1000
):
    """Images :func:`evaluate_under_shift` predicts, for an estimate of its time.

    Examples
    --------
    >>> from skfashion.evaluation import shift_prediction_count
    >>> shift_prediction_count(300, 100, n_per_severity=20, n_in=300, n_out=100)
    2800
    """
    n_cell = min(n_per_severity, n_test)
    cells = len(CORRUPTIONS) * len(SEVERITIES) * n_cell
    out = len(STRANGERS) * n_out
    # the mixed set and its temperature; the detectors fit on the validation
    # images and score the test images and the strangers, all of them from
    # one pass of each set
    return cells + n_test + n_valid + (n_valid + min(n_in, n_test) + out)


def _axes(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_shift_accuracy(result, *, ax=None):
    """Accuracy by severity of each corruption, with the clean and mixed
    accuracy as lines.

    Parameters
    ----------
    result : ShiftEvaluation
        From :func:`evaluate_under_shift`.
    ax : matplotlib Axes, default=None
        Where to draw; by default a new figure.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from skfashion.evaluation import ShiftEvaluation, plot_shift_accuracy
    >>> numbers = {"accuracy_by_severity": {"blur": {"1": 0.8, "2": 0.6}},
    ...            "clean_accuracy": 0.9, "mixed_accuracy": 0.7}
    >>> ax = plot_shift_accuracy(ShiftEvaluation(numbers, None, None, None))
    >>> ax.get_xlabel()
    'severity'
    """
    import matplotlib.pyplot as plt

    ax = _axes(ax, (6, 4.2))
    numbers = result.numbers
    colors = plt.get_cmap("tab20").colors
    for i, (name, row) in enumerate(numbers["accuracy_by_severity"].items()):
        severities = [int(s) for s in row]
        accuracy = 100 * np.array(list(row.values()))
        ax.plot(severities, accuracy, marker=".", color=colors[i % 20], label=name)
    ax.axhline(100 * numbers["clean_accuracy"], color="k", ls="--", label="clean")
    ax.axhline(100 * numbers["mixed_accuracy"], color="k", ls=":", label="mixed")
    ax.set(xlabel="severity", ylabel="accuracy (%)", xticks=range(1, 6))
    ax.set_title("Fashion-MNIST-C, by corruption", fontsize=9)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_selective_curve(result, *, ax=None):
    """Selective accuracy against coverage on the clean test images.

    Parameters
    ----------
    result : ShiftEvaluation
        From :func:`evaluate_under_shift`.
    ax : matplotlib Axes, default=None
        Where to draw; by default a new figure.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion.evaluation import ShiftEvaluation, plot_selective_curve
    >>> curve = (np.array([0.5, 1.0]), np.array([1.0, 0.5]))
    >>> ax = plot_selective_curve(ShiftEvaluation({}, curve, None, None))
    >>> ax.get_ylabel()
    'accuracy (%)'
    """
    ax = _axes(ax, (5, 4.2))
    coverage, accuracy = result.curve
    ax.plot(100 * coverage, 100 * accuracy)
    ax.set(xlabel="coverage: answers kept (%)", ylabel="accuracy (%)")
    ax.set_ylim(max(0.0, 100 * accuracy[-1] - 5), 100.5)
    ax.set_title("Selective accuracy (clean test set)", fontsize=9)
    ax.grid(alpha=0.3)
    return ax


def plot_novelty_scores(result, *, ax=None):
    """Histograms of the default detector's scores of the test images and of
    each set of strangers, with its threshold.

    Parameters
    ----------
    result : ShiftEvaluation
        From :func:`evaluate_under_shift`.
    ax : matplotlib Axes, default=None
        Where to draw; by default a new figure.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from skfashion.evaluation import ShiftEvaluation, plot_novelty_scores
    >>> scores = {"test": np.arange(10.0), "digits": -np.arange(10.0)}
    >>> result = ShiftEvaluation({"default_detector": "energy"}, None, scores,
    ...                          SimpleNamespace(offset_=0.5))
    >>> plot_novelty_scores(result).get_xlabel()
    'energy score (higher: more typical)'
    """
    ax = _axes(ax, (7, 3.8))
    scores = result.scores
    low, high = np.percentile(np.concatenate(list(scores.values())), [0.5, 99.5])
    bins = np.linspace(low, high, 60)
    for name, values in scores.items():
        ax.hist(
            np.clip(values, low, high),
            bins=bins,
            density=True,
            histtype="step" if name != "test" else "stepfilled",
            alpha=0.4 if name == "test" else 1.0,
            label=name,
        )
    ax.axvline(result.detector.offset_, color="k", ls="--", label="threshold")
    ax.set(
        xlabel=f"{result.numbers['default_detector']} score (higher: more typical)",
        ylabel="density",
    )
    ax.legend(fontsize=7)
    return ax
