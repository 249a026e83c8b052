"""Selective classification: how accurate a model is on the answers it is
surest of, when it may abstain on the rest."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ._calibration import _top_label

__all__ = ["selective_accuracy", "selective_curve"]


def _ranked_hits(y_true, proba, classes):
    """Whether each answer is right, the most confident first (ties in the
    order given, so the same probabilities give the same curve)."""
    confidence, hits = _top_label(y_true, proba, classes)
    order = np.argsort(-confidence, kind="stable")
    return hits[order]


_PARAMETERS = {
    "y_true": ["array-like"],
    "proba": ["array-like"],
    "classes": ["array-like", None],
}


@validate_params(_PARAMETERS, prefer_skip_nested_validation=True)
def selective_curve(y_true, proba, *, classes=None):
    """Accuracy on the most confident answers, for every coverage.

    The model answers the ``k`` test images it is most confident about (its
    largest class probability) and abstains on the others; the curve gives
    the accuracy of those ``k`` answers for ``k = 1 ... n``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, as from ``predict_proba``.
    classes : array-like of shape (n_classes,), default=None
        The label of each column of ``proba`` (the estimator's
        ``classes_``); by default ``0 ... n_classes - 1``.

    Returns
    -------
    coverage : ndarray of shape (n_samples,)
        The share of images answered, ``k / n``.
    accuracy : ndarray of shape (n_samples,)
        The accuracy on them.

    See Also
    --------
    selective_accuracy : One point of the curve.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion.evaluation import selective_curve
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]])
    >>> coverage, accuracy = selective_curve([0, 1, 1, 0], proba)
    >>> coverage.tolist(), accuracy.tolist()
    ([0.25, 0.5, 0.75, 1.0], [1.0, 1.0, 0.6666666666666666, 0.5])
    """
    hits = _ranked_hits(y_true, proba, classes)
    k = np.arange(1, len(hits) + 1)
    return k / len(hits), np.cumsum(hits) / k


@validate_params(
    {**_PARAMETERS, "coverage": [Interval(numbers.Real, 0, 1, closed="right")]},
    prefer_skip_nested_validation=True,
)
def selective_accuracy(y_true, proba, *, coverage=0.9, classes=None):
    """Accuracy on the ``coverage`` share of answers the model is surest of.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, as from ``predict_proba``.
    coverage : float, default=0.9
        The share of images answered, in (0, 1]: the most confident
        ``round(coverage * n_samples)`` (at least one).
    classes : array-like of shape (n_classes,), default=None
        The label of each column of ``proba``; by default
        ``0 ... n_classes - 1``.

    Returns
    -------
    accuracy : float

    See Also
    --------
    selective_curve : The accuracy at every coverage.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion.evaluation import selective_accuracy
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]])
    >>> selective_accuracy([0, 1, 1, 0], proba, coverage=0.5)
    1.0
    """
    hits = _ranked_hits(y_true, proba, classes)
    k = max(1, int(round(coverage * len(hits))))
    return float(hits[:k].mean())
