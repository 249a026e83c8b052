"""The report's numbers, from a fitted model and its predictions: the
calibration before and after temperature scaling, one model's fits over
their seeds, two models compared -- and what they mean, in words."""

import numpy as np

from ..datasets import CLASS_NAMES
from ._calibration import expected_calibration_error
from ._stats import confused_pairs, mcnemar, per_class_recall, seed_summary

__all__ = [
    "compare_models",
    "mcnemar_in_words",
    "recall_change_in_words",
    "summarize_fits",
    "temperature_calibration",
]


def temperature_calibration(estimator, proba, X_valid, y_valid, X_test, y_test):
    """The test set's calibration error, as predicted and after temperature
    scaling fitted on validation images.

    Temperature scaling is scikit-learn's
    ``CalibratedClassifierCV(FrozenEstimator(estimator), method="temperature")``,
    fitted on ``X_valid`` as one fold (the frozen model is not refitted, so
    folds would only split its predictions); the error is
    :func:`expected_calibration_error` (15 bins). For an estimator without
    ``decision_function`` (skfashion's classifiers) the test images' scaled
    probabilities come from ``proba``, as scikit-learn computes them from
    the estimator's, without running the model over ``X_test`` again.

    Parameters
    ----------
    estimator : fitted classifier
        A pipeline or a classifier with ``classes_`` and ``predict_proba``.
    proba : array-like of shape (n_test, n_classes)
        ``estimator.predict_proba(X_test)``, already computed.
    X_valid, y_valid : array-like
        The images the temperature is fitted on, and their labels.
    X_test, y_test : array-like
        The test images and their labels.

    Returns
    -------
    numbers : dict
        ``ece`` (as predicted), ``ece_temperature`` (after scaling) and
        ``temperature`` (rounded to 4 decimals; above 1 softens).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfashion.evaluation import temperature_calibration
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(200, 4)), rng.randint(0, 2, 200)
    >>> model = LogisticRegression().fit(X[:100], y[:100])
    >>> numbers = temperature_calibration(
    ...     model, model.predict_proba(X[150:]), X[100:150], y[100:150],
    ...     X[150:], y[150:])
    >>> sorted(numbers)
    ['ece', 'ece_temperature', 'temperature']
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    # a frozen model learns nothing from the folds, which only group the
    # images it predicts: one fold of them all (the default's five
    # stratified folds warn where a class has fewer than five validation
    # images, as in the report's quick mode)
    every = np.arange(len(y_valid))
    scaled = CalibratedClassifierCV(
        FrozenEstimator(estimator), method="temperature", cv=[(every, every)]
    )
    scaled.fit(X_valid, y_valid)
    (calibrated,) = scaled.calibrated_classifiers_
    beta = calibrated.calibrators[0].beta_
    classes = estimator.classes_
    if hasattr(estimator, "decision_function"):  # what scikit-learn scales
        scaled_proba = scaled.predict_proba(X_test)
    else:
        scaled_proba = _scaled(calibrated, proba)
    return {
        "ece": expected_calibration_error(y_test, proba, classes=classes),
        "ece_temperature": expected_calibration_error(
            y_test, scaled_proba, classes=classes
        ),
        "temperature": round(float(1 / beta), 4),
    }


def _scaled(calibrated, proba):
    """``CalibratedClassifierCV.predict_proba`` of a temperature fitted on a
    frozen estimator without ``decision_function``, from the estimator's
    ``proba`` (what scikit-learn 1.8 computes from them; a test holds the
    two equal)."""
    scaled = calibrated.calibrators[0].predict(np.asarray(proba))
    scaled[(1.0 < scaled) & (scaled <= 1.0 + 1e-5)] = 1.0
    return scaled


def summarize_fits(runs, y_true, y_pred, *, class_names=CLASS_NAMES):
    """One model's fits in numbers: accuracy over the seeds, and the first
    fit's confusion matrix, recall and most confused pairs.

    Parameters
    ----------
    runs : list of dict
        Each fit's numbers: ``test_accuracy``, ``valid_accuracy``,
        ``train_seconds``, ``predict_seconds``, ``ece`` and
        ``ece_temperature`` (as the report records them).
    y_true : array-like of shape (n_test,)
        The test labels, class indices into ``class_names``.
    y_pred : array-like of shape (n_test,)
        The first fit's predictions.
    class_names : sequence of str, default=CLASS_NAMES
        The classes' names.

    Returns
    -------
    summary : dict
        ``summary`` (:func:`seed_summary` of the test accuracies), the means
        of the other numbers, ``runs``, ``confusion_matrix``, ``recall`` and
        ``most_confused`` (:func:`confused_pairs`).

    Examples
    --------
    >>> from skfashion.evaluation import summarize_fits
    >>> run = {"test_accuracy": 0.75, "valid_accuracy": 0.8, "train_seconds": 1,
    ...        "predict_seconds": 0.1, "ece": 0.05, "ece_temperature": 0.02}
    >>> s = summarize_fits([run], [0, 1, 1, 0], [0, 1, 0, 0], class_names=["a", "b"])
    >>> s["summary"]["mean"], s["recall"], s["most_confused"][0]["true"]
    (0.75, [1.0, 0.5], 'b')
    """
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=range(len(class_names)))

    def mean(key):
        return float(np.mean([r[key] for r in runs]))

    return {
        "summary": seed_summary([r["test_accuracy"] for r in runs]),
        "valid_accuracy": mean("valid_accuracy"),
        "train_seconds": mean("train_seconds"),
        "predict_seconds": mean("predict_seconds"),
        "ece": mean("ece"),
        "ece_temperature": mean("ece_temperature"),
        "runs": runs,
        "confusion_matrix": cm.tolist(),
        "recall": per_class_recall(cm).tolist(),
        "most_confused": confused_pairs(cm, class_names),
    }


def compare_models(a, b, y_true, pred_a, pred_b, *, titles=None):
    """McNemar's exact test of two models' predictions, with what it says.

    Parameters
    ----------
    a, b : str
        The models' names.
    y_true, pred_a, pred_b : array-like of shape (n_samples,)
        The labels and each model's predictions.
    titles : dict, default=None
        Each model's title, for the sentence (default: the names).

    Returns
    -------
    comparison : dict
        ``a``, ``b``, the keys of :func:`mcnemar` and ``words``
        (:func:`mcnemar_in_words`).

    Examples
    --------
    >>> from skfashion.evaluation import compare_models
    >>> c = compare_models("A", "B", [0, 0, 0], [0, 0, 0], [1, 0, 0])
    >>> c["a_only"], c["b_only"], c["p_value"]
    (1, 0, 1.0)
    >>> c["words"][:32]
    "A's lead over B may well be chan"
    """
    titles = titles or {}
    test = mcnemar(y_true, pred_a, pred_b)
    words = mcnemar_in_words(
        test["p_value"],
        titles.get(a, a),
        titles.get(b, b),
        test["a_only"],
        test["b_only"],
    )
    return {"a": a, "b": b, **test, "words": words}


def mcnemar_in_words(p, a, b, a_only, b_only):
    """A p-value of McNemar's test, in a sentence.

    Parameters
    ----------
    p : float
        The p-value (:func:`mcnemar`).
    a, b : str
        The two models.
    a_only, b_only : int
        The images only ``a``, only ``b`` gets right.

    Returns
    -------
    sentence : str

    Examples
    --------
    >>> from skfashion.evaluation import mcnemar_in_words
    >>> mcnemar_in_words(1e-5, "CNN", "MLP", 300, 100)
    "CNN's lead over MLP is almost certainly real, not chance (p = 1e-05)."
    """
    better, worse = (a, b) if a_only >= b_only else (b, a)
    if a_only == b_only:
        return f"{a} and {b} get the same number of images right: no difference."
    if p < 0.001:
        strength = "almost certainly real, not chance"
    elif p < 0.01:
        strength = "very unlikely to be chance"
    elif p < 0.05:
        strength = "unlikely to be chance (p < 0.05)"
    else:
        return (
            f"{better}'s lead over {worse} may well be chance: this test set "
            f"cannot tell them apart (p = {p:.2g})."
        )
    return f"{better}'s lead over {worse} is {strength} (p = {p:.2g})."


def recall_change_in_words(recall_a, recall_b, *, class_names=CLASS_NAMES):
    """In words: the classes whose recall rises most from ``recall_a`` to
    ``recall_b``, and the one that falls most (or gains least, if none
    falls).

    Parameters
    ----------
    recall_a, recall_b : array-like of shape (n_classes,)
        Each class's recall (:func:`per_class_recall`) before and after.
    class_names : sequence of str, default=CLASS_NAMES

    Returns
    -------
    sentence : str

    Examples
    --------
    >>> from skfashion.evaluation import recall_change_in_words
    >>> recall_change_in_words([0.5, 0.9], [0.8, 0.7], class_names=["a", "b"])
    'recall rises most on a (50.0 → 80.0 %); it falls most on b (90.0 → 70.0 %).'
    """
    ra, rb = np.asarray(recall_a), np.asarray(recall_b)

    def change(i):
        return f"{class_names[i]} ({100 * ra[i]:.1f} → {100 * rb[i]:.1f} %)"

    gain = rb - ra
    order = np.argsort(gain, kind="stable")[::-1]
    rising = [i for i in order[:3] if gain[i] > 0]
    words = (
        "recall rises most on " + ", ".join(map(change, rising))
        if rising
        else "recall rises on no class"
    )
    worst = order[-1]
    if gain[worst] < 0:
        return f"{words}; it falls most on {change(worst)}."
    if worst in rising or not rising:
        return words + "."
    return f"{words}; it rises least on {change(worst)}."
