"""PixelScaler: scale pixel intensities to [0, 1], keeping the data 2-D."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import validate_data

__all__ = ["PixelScaler"]


class PixelScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale pixel intensities to [0, 1] as float32, one row per image.

    Divides by ``max_value`` (255 for 8-bit images, as the original report
    did). Images of shape ``(n, 28, 28)`` or ``(n, 1, 28, 28)`` are flattened
    to ``(n, 784)``, so the output is always 2-D and any scikit-learn
    transformer can sit beside it. The transformer is stateless: ``fit`` only
    records the number of features.

    Read more in the :ref:`User Guide <pipelines>`.

    Parameters
    ----------
    max_value : float, default=255.0
        The largest possible pixel value; it maps to 1.0.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (pixels per image) seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit``, when ``X`` had string column names.

    See Also
    --------
    FashionMLP, FashionCNN : Classifiers to put after it in a pipeline.
    sklearn.preprocessing.MinMaxScaler : Learns each feature's range instead.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import PixelScaler
    >>> images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    >>> PixelScaler().fit_transform(images)
    array([[0. , 1. , 0.2, 0.4]], dtype=float32)
    """

    def __init__(self, *, max_value=255.0):
        self.max_value = max_value

    def _validate(self, X, reset):
        if not (
            isinstance(self.max_value, numbers.Real)
            and not isinstance(self.max_value, bool)
            and np.isfinite(self.max_value)
            and self.max_value > 0
        ):
            raise ValueError(
                f"max_value must be a positive finite number, got {self.max_value!r}."
            )
        ndim = getattr(X, "ndim", None)
        if ndim is None and not hasattr(X, "iloc"):  # lists and other array-likes
            X = np.asarray(X)
            ndim = X.ndim
        if ndim is not None and ndim > 2:  # images: one row per image
            X = np.asarray(X)
            X = X.reshape(len(X), -1)
        X = validate_data(self, X, reset=reset, dtype=np.float32)
        if X.size:
            low, high = X.min(), X.max()
            if low < 0:
                raise ValueError(
                    "Negative values in data passed to PixelScaler: pixel values "
                    f"must be in [0, {self.max_value:g}], got a minimum of {low:g}."
                )
            if high > self.max_value:
                raise ValueError(
                    f"Pixel values must be in [0, {self.max_value:g}], got a maximum "
                    f"of {high:g}. Set max_value to the largest possible pixel value."
                )
        return X

    def fit(self, X, y=None):
        """Check ``X`` and record its number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
width) or (n_samples, 1, height, width)
            Pixel intensities.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self._validate(X, reset=True)
        return self

    def transform(self, X):
        """Scale pixels to [0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
width) or (n_samples, 1, height, width)
            Pixel intensities in [0, ``max_value``].

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features), dtype float32
            The scaled pixels, one row per image.
        """
        X = self._validate(X, reset=False)
        return np.divide(X, np.float32(self.max_value), dtype=np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
