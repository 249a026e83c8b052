"""The report's statistics: accuracy over seeds with its interval, McNemar's
test, the most confused classes and the recall of each.

Pure functions of predictions and confusion matrices; no printing, no files.
"""

import math

import numpy as np

__all__ = ["confused_pairs", "mcnemar", "per_class_recall", "seed_summary"]


def seed_summary(accuracies):
    """Mean, sample standard deviation and 95 % confidence interval (Student's
    t, over the seeds) of test accuracies; no interval from one seed.

    Parameters
    ----------
    accuracies : array-like of shape (n_seeds,)
        One accuracy per seed.

    Returns
    -------
    summary : dict
        ``mean``, ``std`` (sample standard deviation), ``ci95`` (``[low,
        high]``, None for one seed) and ``n``.

    Examples
    --------
    >>> from skfashion.evaluation import seed_summary
    >>> s = seed_summary([0.90, 0.91, 0.92])
    >>> round(s["mean"], 3), round(s["std"], 3), [round(v, 3) for v in s["ci95"]]
    (0.91, 0.01, [0.885, 0.935])
    """
    from scipy import stats

    acc = np.asarray(accuracies, dtype=float)
    n = len(acc)
    mean = float(acc.mean())
    if n < 2:
        return {"mean": mean, "std": 0.0, "ci95": None, "n": n}
    std = float(acc.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1) * std / math.sqrt(n))
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": n}


def mcnemar(y_true, pred_a, pred_b):
    """McNemar's exact test of two classifiers on the same test set.

    Only the images that exactly one of them gets right count: ``a_only``
    (A right, B wrong) and ``b_only``. Under the hypothesis that both are
    equally accurate, each such image is a fair coin flip, so the two-sided
    exact binomial test of ``a_only`` out of ``a_only + b_only`` gives the
    p-value.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true labels.
    pred_a, pred_b : array-like of shape (n_samples,)
        The labels predicted by classifiers A and B.

    Returns
    -------
    result : dict
        ``a_only``, ``b_only`` and ``p_value``.

    Examples
    --------
    >>> from skfashion.evaluation import mcnemar
    >>> mcnemar([0, 1, 1, 0], [0, 1, 1, 1], [0, 0, 0, 1])
    {'a_only': 2, 'b_only': 0, 'p_value': 0.5}
    """
    from scipy.stats import binomtest

    y_true = np.asarray(y_true)
    right_a = np.asarray(pred_a) == y_true
    right_b = np.asarray(pred_b) == y_true
    a_only = int(np.sum(right_a & ~right_b))
    b_only = int(np.sum(~right_a & right_b))
    n = a_only + b_only
    p = 1.0 if n == 0 else float(binomtest(a_only, n, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p_value": p}


def confused_pairs(cm, names, top=3):
    """The ``top`` most confused pairs of classes of a confusion matrix, each
    pair once: its more frequent (true, predicted) mistake, with the count
    the other way round.

    Parameters
    ----------
    cm : array-like of shape (n_classes, n_classes)
        A confusion matrix: true classes in rows, predicted in columns.
    names : sequence of str
        The classes' names, in the matrix's order.
    top : int, default=3
        How many pairs to return (fewer if fewer are confused).

    Returns
    -------
    pairs : list of dict
        ``true``, ``predicted``, ``count`` and ``reverse_count`` of each pair.

    Examples
    --------
    >>> from skfashion.evaluation import confused_pairs
    >>> confused_pairs([[8, 2, 0], [1, 9, 0], [0, 0, 10]], ["a", "b", "c"], top=1)
    [{'true': 'a', 'predicted': 'b', 'count': 2, 'reverse_count': 1}]
    """
    off = np.array(cm, copy=True)
    np.fill_diagonal(off, 0)
    pairs, seen = [], set()
    for k in np.argsort(off, axis=None, kind="stable")[::-1]:
        i, j = np.unravel_index(k, off.shape)
        if len(pairs) == top or off[i, j] == 0:
            break
        if frozenset((i, j)) in seen:  # the other direction of a listed pair
            continue
        seen.add(frozenset((i, j)))
        pairs.append(
            {
                "true": names[i],
                "predicted": names[j],
                "count": int(off[i, j]),
                "reverse_count": int(off[j, i]),
            }
        )
    return pairs


def per_class_recall(cm):
    """Recall of each class (row) of a confusion matrix; 0 for a class with
    no samples.

    Examples
    --------
    >>> from skfashion.evaluation import per_class_recall
    >>> per_class_recall([[3, 1], [0, 0]]).tolist()
    [0.75, 0.0]
    """
    cm = np.asarray(cm, dtype=float)
    totals = cm.sum(axis=1)
    return np.divide(np.diag(cm), totals, out=np.zeros(len(cm)), where=totals > 0)
