"""Classes a model never learned: how well each novelty detector flags
them."""

import numpy as np

from ..novelty import METHODS, fit_detectors
from ._detection import detection_scores

__all__ = ["HELD_OUT_SPLITS", "held_out_classes", "held_out_class_detection"]

#: pairs of Fashion-MNIST classes to hold out, each class once: a hard one
#: (a garment the model knows a near twin of: a shirt beside T-shirts,
#: pullovers and coats; a sandal beside sneakers) and an easier one each
HELD_OUT_SPLITS = ((6, 5), (0, 9), (2, 8), (1, 7), (3, 4))


def held_out_classes(y, held_out):
    """The mask of the samples of the learned classes: those of ``y`` not in
    ``held_out``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    held_out : sequence
        The classes held out; each must occur in ``y``.

    Returns
    -------
    learned : ndarray of bool, shape (n_samples,)

    Examples
    --------
    >>> from skfashion.evaluation import held_out_classes
    >>> held_out_classes([0, 1, 2, 1], held_out=[1]).tolist()
    [True, False, True, False]
    """
    y = np.asarray(y)
    held_out = list(held_out)
    missing = [c for c in held_out if not np.any(y == c)]
    if missing or not held_out:
        raise ValueError(
            f"held_out must name classes of y; {missing or 'none'} given that "
            f"are not in it (its classes: {np.unique(y).tolist()})."
        )
    learned = ~np.isin(y, held_out)
    if not learned.any():
        raise ValueError("held_out names every class of y: none is left to learn.")
    return learned


def held_out_class_detection(
    estimator, X_fit, y_fit, X_in, X_held_out, *, methods=None, random_state=0
):
    """How well each novelty detector flags images of classes the model
    never learned, against images of the classes it learned.

    A :class:`~skfashion.novelty.NoveltyDetector` of each method is fitted on
    ``X_fit`` (images of the learned classes the model did not train on),
    and scores ``X_in`` (more of them) and ``X_held_out`` (images of the
    held-out classes): a shop's garments of a kind the model was never
    taught, the hardest stranger of all.

    Parameters
    ----------
    estimator : fitted skfashion classifier or Pipeline
        Trained without the held-out classes.
    X_fit, y_fit : array-like
        Images of the learned classes, and their labels, to fit the
        detectors on.
    X_in : array-like
        Test images of the learned classes.
    X_held_out : array-like
        Test images of the held-out classes.
    methods : sequence of str, default=None
        The detectors' methods; None: :data:`skfashion.novelty.METHODS`.
    random_state : int, default=0
        The detectors' ``random_state``.

    Returns
    -------
    scores : dict
        Method -> :func:`detection_scores` (``auroc``, ``fpr_at_tpr``) of
        the held-out images against ``X_in``.

    See Also
    --------
    held_out_classes : The mask of the learned classes' samples.
    """
    methods = METHODS if methods is None else tuple(methods)
    _, scores = fit_detectors(
        estimator,
        X_fit,
        y_fit,
        sets={"in": X_in, "held_out": X_held_out},
        methods=methods,
        random_state=random_state,
    )
    return {
        method: detection_scores(scores[method]["in"], scores[method]["held_out"])
        for method in methods
    }
