"""How well predicted probabilities match accuracy: top-label calibration."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["calibration_bins", "expected_calibration_error", "plot_reliability"]

_PARAMETERS = {
    "y_true": ["array-like"],
    "proba": ["array-like"],
    "n_bins": [Interval(numbers.Integral, 1, None, closed="left")],
    "classes": ["array-like", None],
}


def _top_label(y_true, proba, classes):
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise ValueError(
            "proba must have shape (n_samples, n_classes) with one row per "
            f"label; got {proba.shape} for {len(y_true)} labels."
        )
    classes = np.arange(proba.shape[1]) if classes is None else np.asarray(classes)
    if len(classes) != proba.shape[1]:
        raise ValueError(
            f"proba has {proba.shape[1]} columns but classes has {len(classes)}."
        )
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == y_true
    return confidence, correct


@validate_params(_PARAMETERS, prefer_skip_nested_validation=True)
def calibration_bins(y_true, proba, *, n_bins=15, classes=None):
    """Confidence and accuracy of the top label in equal-width bins.

    Each prediction falls in the bin of its confidence (its largest
    probability): bin ``i`` holds confidences in ``(i / n_bins, (i + 1) /
    n_bins]``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, columns in the order of ``classes``.
    n_bins : int, default=15
        Number of bins.
    classes : array-like of shape (n_classes,), default=None
        The label of each column (an estimator's ``classes_``); by default
        ``0, 1, ..., n_classes - 1``.

    Returns
    -------
    bins : dict of ndarray of shape (n_bins,)
        ``count``, mean ``confidence`` and ``accuracy`` of each bin (NaN
        where empty) and the bins' ``lower``/``upper`` edges.

    Examples
    --------
    >>> from skfashion import calibration_bins
    >>> bins = calibration_bins([0, 1], [[0.9, 0.1], [0.8, 0.2]], n_bins=5)
    >>> bins["count"].tolist()
    [0, 0, 0, 1, 1]
    """
    confidence, correct = _top_label(y_true, proba, classes)
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, confidence, n_bins) / count
        accuracy = np.bincount(index, correct.astype(float), n_bins) / count
    edges = np.linspace(0, 1, n_bins + 1)
    return {
        "lower": edges[:-1],
        "upper": edges[1:],
        "count": count,
        "confidence": mean_conf,
        "accuracy": accuracy,
    }


@validate_params(_PARAMETERS, prefer_skip_nested_validation=True)
def expected_calibration_error(y_true, proba, *, n_bins=15, classes=None):
    """Expected calibration error (ECE) of the top label.

    The mean, over equal-width confidence bins weighted by how many
    predictions they hold, of ``|accuracy - confidence|`` (Guo et al., "On
    Calibration of Modern Neural Networks", 2017; 15 bins as there). 0 for a
    model whose 80 %-confident predictions are right 80 % of the time, and
    so on.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities (``predict_proba``).
    n_bins : int, default=15
        Number of bins.
    classes : array-like of shape (n_classes,), default=None
        The label of each column (an estimator's ``classes_``); by default
        ``0, 1, ..., n_classes - 1``.

    Returns
    -------
    ece : float
        Between 0 and 1.

    Examples
    --------
    >>> from skfashion import expected_calibration_error
    >>> expected_calibration_error([0, 1], [[0.9, 0.1], [0.8, 0.2]])
    0.45
    """
    return _ece(calibration_bins(y_true, proba, n_bins=n_bins, classes=classes))


def _ece(bins):
    """The expected calibration error of :func:`calibration_bins`' bins."""
    filled = bins["count"] > 0
    gaps = np.abs(bins["accuracy"][filled] - bins["confidence"][filled])
    return round(float((bins["count"][filled] * gaps).sum() / bins["count"].sum()), 12)


def plot_reliability(y_true, proba, *, n_bins=15, classes=None, ax=None, label=None):
    """Reliability diagram: accuracy against confidence, per bin.

    Bars of each bin's accuracy over the diagonal a perfectly calibrated
    model would follow; the gap is shaded. Bars below the diagonal are
    over-confidence.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities.
    n_bins : int, default=15
        Number of bins.
    classes : array-like of shape (n_classes,), default=None
        The label of each column; by default ``0, 1, ..., n_classes - 1``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.
    label : str, default=None
        Legend label of the bars; the ECE is appended.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from skfashion import plot_reliability
    >>> ax = plot_reliability([0, 1, 1], [[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    >>> ax.get_xlabel()
    'confidence (largest probability)'
    """
    import matplotlib.pyplot as plt

    bins = calibration_bins(y_true, proba, n_bins=n_bins, classes=classes)
    ece = _ece(bins)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
    width = 1 / n_bins
    filled = bins["count"] > 0
    lower = bins["lower"][filled]
    ax.bar(
        lower,
        bins["accuracy"][filled],
        width=width,
        align="edge",
        edgecolor="black",
        label=f"{label + ': ' if label else ''}ECE {100 * ece:.2f} %",
    )
    ax.bar(
        lower,
        bins["confidence"][filled] - bins["accuracy"][filled],
        bottom=bins["accuracy"][filled],
        width=width,
        align="edge",
        color="tab:red",
        alpha=0.3,
        label="gap",
    )
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="confidence (largest probability)",
        ylabel="accuracy",
        title=f"Reliability ({n_bins} bins)",
    )
    ax.legend(loc="upper left", fontsize=8)
    return ax
