"""Images that are not garments, made offline: for measuring a novelty
detector (out-of-distribution sets that need no network)."""

import numbers

import numpy as np

__all__ = ["NOT_GARMENTS", "make_not_garments"]

#: the kinds of :func:`make_not_garments`
NOT_GARMENTS = ("digits", "uniform", "gaussian", "constant")


def _digits():
    """scikit-learn's bundled handwritten digits (8x8, 0-16), laid out as
    MNIST's are: scaled to 20x20 (bilinear) in the middle of 28x28, 0-255
    -- a stand-in for MNIST, which needs a download."""
    from scipy import ndimage
    from sklearn.datasets import load_digits

    small = load_digits().images / 16.0
    big = np.stack(
        [ndimage.zoom(im, 2.5, order=1, mode="nearest", grid_mode=True) for im in small]
    )
    out = np.zeros((len(small), 28, 28))
    out[:, 4:24, 4:24] = np.clip(big, 0, 1)
    return np.rint(out * 255).astype(np.uint8).reshape(len(small), -1)


def make_not_garments(kind="digits", *, n_samples=None, random_state=0):
    """Images that are not garments, on Fashion-MNIST's scale (28x28, 0-255).

    ================  ====================================================
    ``"digits"``      scikit-learn's 1,797 handwritten digits
                      (:func:`~sklearn.datasets.load_digits`, 8x8) scaled to
                      20x20 in the middle of 28x28, as MNIST's: a proxy
                      for MNIST that needs no download
    ``"uniform"``     each pixel uniform in 0-255
    ``"gaussian"``    each pixel normal, mean 128, deviation 64, clipped
    ``"constant"``    one gray level per image, uniform in 0-255
    ================  ====================================================

    Read more in the :ref:`User Guide <ood>`.

    Parameters
    ----------
    kind : {"digits", "uniform", "gaussian", "constant"}, default="digits"
        What to make.
    n_samples : int, default=None
        How many images; None: 1,797 (the digits' number). The digits are
        repeated (in order) when more are asked for.
    random_state : int, RandomState instance or None, default=0
        Seeds the noise and the gray levels.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), dtype uint8
        The images, one row each.

    Examples
    --------
    >>> from skfashion.datasets import make_not_garments
    >>> X = make_not_garments("digits", n_samples=5)
    >>> X.shape, X.dtype, int(X.reshape(5, 28, 28)[:, :4].max())
    ((5, 784), dtype('uint8'), 0)
    """
    from sklearn.utils import check_random_state

    if kind not in NOT_GARMENTS:
        raise ValueError(
            f"kind must be one of {', '.join(map(repr, NOT_GARMENTS))}; got {kind!r}."
        )
    if n_samples is None:
        n_samples = 1797
    if (
        not isinstance(n_samples, numbers.Integral)
        or isinstance(n_samples, bool)
        or n_samples < 1
    ):
        raise ValueError(
            f"n_samples must be a positive int or None, got {n_samples!r}."
        )
    rng = check_random_state(random_state)
    if kind == "digits":
        return np.resize(_digits(), (n_samples, 784))
    if kind == "uniform":
        return rng.randint(0, 256, size=(n_samples, 784)).astype(np.uint8)
    if kind == "gaussian":
        noise = rng.normal(128, 64, size=(n_samples, 784))
        return np.rint(np.clip(noise, 0, 255)).astype(np.uint8)
    levels = rng.randint(0, 256, size=(n_samples, 1)).astype(np.uint8)
    return np.repeat(levels, 784, axis=1)
