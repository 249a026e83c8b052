"""What an export takes from a model and the data, decided once for the
report, ``skfashion export`` and a user: which novelty detector a graph can
compute, and which images calibrate an int8 graph."""

__all__ = ["N_CALIBRATION", "calibration_images", "graph_detector"]

#: The last training images calibrate an int8 graph.
N_CALIBRATION = 500


def graph_detector(detector):
    """The detector an ONNX graph can carry, and why another is left out.

    A graph computes the ``energy`` and ``msp`` scores from the logits;
    the ``mahalanobis`` and ``vim`` scores need the network's penultimate
    features, which the graph does not give.

    Parameters
    ----------
    detector : NoveltyDetector or None
        A fitted detector, as a model file keeps it.

    Returns
    -------
    detector : NoveltyDetector or None
        ``detector`` if a graph computes its score, else None.
    reason : str or None
        Why it was left out, to tell the user; None if nothing was.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skfashion.io import graph_detector
    >>> detector, reason = graph_detector(SimpleNamespace(method="vim"))
    >>> detector is None, "cannot be computed in the graph" in reason
    (True, True)
    >>> graph_detector(None)
    (None, None)
    """
    from ._onnx import ONNX_METHODS  # onnx's own imports: only when asked

    if detector is None or detector.method in ONNX_METHODS:
        return detector, None
    return None, (
        f"the {detector.method!r} detector's score cannot be computed in the "
        "graph: exported without garment_score"
    )


def calibration_images(X=None, *, data_home=None, n_images=N_CALIBRATION):
    """The images that calibrate an int8 graph: the last training images.

    Parameters
    ----------
    X : array-like of shape (n_samples, 784), default=None
        The training images; by default Fashion-MNIST's
        (:func:`~skfashion.fetch_fashion_mnist`).
    data_home : str or path-like, default=None
        Where to look for Fashion-MNIST first.
    n_images : int, default=500
        How many.

    Returns
    -------
    images : ndarray of shape (n_images, 784)

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion.io import calibration_images
    >>> calibration_images(np.arange(1000).reshape(-1, 1), n_images=3).ravel()
    array([997, 998, 999])
    """
    if X is None:
        from ..datasets import fetch_fashion_mnist

        X = fetch_fashion_mnist(subset="train", data_home=data_home).data
    return X[-n_images:]
