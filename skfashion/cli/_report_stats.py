"""The report's numbers: accuracy over seeds, intervals, McNemar's test.

Pure functions of predictions; no printing, no files.
"""

import math

import numpy as np

__all__ = ["confused_pairs", "mcnemar", "per_class_recall", "seed_summary"]


def seed_summary(accuracies):
    """Mean, sample standard deviation and 95 % confidence interval (Student's
    t, over the seeds) of test accuracies; no interval from one seed."""
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


def in_words(p, a, b, a_only, b_only):
    """A p-value of McNemar's test, in a sentence."""
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


def confused_pairs(cm, names, top=3):
    """The ``top`` most confused pairs of classes of a confusion matrix, each
    pair once: its more frequent (true, predicted) mistake, with the count
    the other way round."""
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
    """Recall of each class (row) of a confusion matrix."""
    cm = np.asarray(cm, dtype=float)
    totals = cm.sum(axis=1)
    return np.divide(np.diag(cm), totals, out=np.zeros(len(cm)), where=totals > 0)
