"""How well a score tells garments from the rest: AUROC and the false
positive rate at a true positive rate (out-of-distribution detection)."""

import numpy as np

__all__ = ["detection_scores", "fpr_at_tpr"]


def _labels_and_scores(scores_in, scores_out):
    scores_in = np.asarray(scores_in, dtype=np.float64).ravel()
    scores_out = np.asarray(scores_out, dtype=np.float64).ravel()
    if not len(scores_in) or not len(scores_out):
        raise ValueError("scores_in and scores_out must each hold at least one score.")
    scores = np.concatenate([scores_in, scores_out])
    if not np.isfinite(scores).all():
        raise ValueError("the scores must be finite.")
    y = np.r_[np.ones(len(scores_in), int), np.zeros(len(scores_out), int)]
    return y, scores


def fpr_at_tpr(scores_in, scores_out, *, tpr=0.95):
    """The share of outliers accepted when ``tpr`` of the inliers are.

    Higher scores mean "more like the training images" (scikit-learn's
    ``score_samples``); the threshold is the highest that accepts at least
    ``tpr`` of ``scores_in`` (from :func:`sklearn.metrics.roc_curve`).

    Parameters
    ----------
    scores_in : array-like of shape (n_in,)
        Scores of in-distribution images (garments).
    scores_out : array-like of shape (n_out,)
        Scores of out-of-distribution images.
    tpr : float, default=0.95
        The share of inliers accepted.

    Returns
    -------
    fpr : float
        The share of ``scores_out`` at or above that threshold.

    Examples
    --------
    >>> from skfashion.evaluation import fpr_at_tpr
    >>> fpr_at_tpr([5, 6, 7, 8], [1, 2, 6.5], tpr=0.75)
    0.3333333333333333
    """
    from sklearn.metrics import roc_curve

    if not 0 < tpr <= 1:
        raise ValueError(f"tpr must be in (0, 1]; got {tpr!r}.")
    y, scores = _labels_and_scores(scores_in, scores_out)
    fprs, tprs, _ = roc_curve(y, scores, drop_intermediate=False)
    return float(fprs[np.searchsorted(tprs, tpr - 1e-12, side="left")])


def detection_scores(scores_in, scores_out, *, tpr=0.95):
    """AUROC and FPR at ``tpr`` TPR of a novelty score.

    Parameters
    ----------
    scores_in : array-like of shape (n_in,)
        Scores of in-distribution images; higher is more typical.
    scores_out : array-like of shape (n_out,)
        Scores of out-of-distribution images.
    tpr : float, default=0.95
        For the false positive rate.

    Returns
    -------
    scores : dict
        ``auroc`` (:func:`sklearn.metrics.roc_auc_score`, inliers positive)
        and ``fpr_at_tpr``.

    Examples
    --------
    >>> from skfashion.evaluation import detection_scores
    >>> scores = detection_scores([3, 4, 5], [1, 2, 3.5])
    >>> round(scores["auroc"], 3), round(scores["fpr_at_tpr"], 3)
    (0.889, 0.333)
    """
    from sklearn.metrics import roc_auc_score

    y, scores = _labels_and_scores(scores_in, scores_out)
    return {
        "auroc": float(roc_auc_score(y, scores)),
        "fpr_at_tpr": fpr_at_tpr(scores_in, scores_out, tpr=tpr),
    }
