"""Turn ordinary pictures into Fashion-MNIST-like 28x28 images."""

import os

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["ImagePreprocessor", "preprocess_image"]

_OBJECT_THRESHOLD = 20  # on 0-255, above the background: part of the garment
#: Pillow's reducing_gap: see preprocess_image
_REDUCING_GAP = 256.0


def _as_uint8(array):
    """Intensities as uint8: floats in [0, 1] are scaled to [0, 255], other
    numbers clipped to [0, 255]."""
    kind = array.dtype.kind
    if kind not in "biufO":
        raise ValueError(
            f"An image array must hold real numbers, got dtype {array.dtype}."
        )
    if kind == "O":  # Python objects: numbers, Decimals, huge ints, ...
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
            raise ValueError(
                f"An image array must hold real numbers ({exc})."
            ) from None
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("The image array contains NaN or infinity.")
    if array.dtype.kind == "f" and values.max() <= 1.0:
        values = values * 255.0
    return np.clip(values, 0, 255).astype(np.uint8)


def _counts(values, chunk=2**20):
    """How many of the uint8 ``values`` are 0, 1, ..., 255 (in chunks:
    ``bincount`` converts to 8-byte integers first)."""
    counts = np.zeros(256, np.int64)
    for start in range(0, len(values), chunk):
        counts += np.bincount(values[start : start + chunk], minlength=256)
    return counts


def _percentile(counts, q):
    """``np.percentile(values, q)`` (linear, its default) of the values that
    ``counts`` counts, without sorting them."""
    cumulative = np.cumsum(counts)
    position = q / 100 * (cumulative[-1] - 1)
    low = int(np.floor(position))
    # the value of rank r: the first whose cumulative count exceeds r
    a, b = np.searchsorted(cumulative, [low, low + 1], side="right")
    b = min(b, 255)
    if position == low:
        return float(a)
    return float(a + (b - a) * (position - low))


def _open(image):
    from PIL import Image, ImageOps, UnidentifiedImageError
    from PIL.Image import DecompressionBombError

    if isinstance(image, str | os.PathLike):
        try:
            with Image.open(image) as img:
                img.load()
        except DecompressionBombError as exc:
            raise ValueError(f"{image}: refused, too large an image ({exc}).") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise ValueError(f"{image}: not a readable image ({exc}).") from None
        image = ImageOps.exif_transpose(img)
    elif isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or image.size == 0:
            raise ValueError(
                f"An image array must be 2-D (gray) or 3-D (color), got shape "
                f"{image.shape}."
            )
        image = Image.fromarray(_as_uint8(image))
    elif not isinstance(image, Image.Image):
        raise TypeError(
            "Expected a file path, a PIL image or a NumPy array, got "
            f"{type(image).__name__}."
        )
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # transparent product photos: put them on white, as on a web page
        return _on_white(image)
    return image.convert("L")


def _on_white(image, pixels=2**20):
    """A transparent picture on white, in gray: composited a strip of about
    ``pixels`` pixels at a time (the same pixels as all at once, without
    three full-size RGBA copies)."""
    from PIL import Image

    gray = Image.new("L", image.size)
    rows = max(1, pixels // max(1, image.width))
    for top in range(0, image.height, rows):
        box = (0, top, image.width, min(top + rows, image.height))
        rgba = image.crop(box).convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        gray.paste(Image.alpha_composite(white, rgba).convert("L"), box[:2])
    return gray


def preprocess_image(image, *, size=28):
    """Convert a picture into a Fashion-MNIST-like image.

    The steps follow how Fashion-MNIST was made: convert to grayscale; invert
    a dark-on-light picture (judged from its border) so the garment is light
    on a dark background; crop to the garment; resize it so its longest side
    is ``size`` pixels, keeping the aspect ratio; center it on a black
    ``size`` x ``size`` canvas.

    Parameters
    ----------
    image : str, path-like, PIL.Image.Image or ndarray
        A picture file (PNG, JPEG, ... anything Pillow reads) or an image.
        Float arrays in [0, 1] are taken as intensities.
    size : int, default=28
        Side of the square output.

    Returns
    -------
    pixels : ndarray of shape (size * size,), dtype uint8
        One row of pixels, ready for :class:`PixelScaler`.

    Raises
    ------
    ValueError
        If the file is not a readable image.

    See Also
    --------
    ImagePreprocessor : The same as a transformer for pipelines.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import preprocess_image
    >>> photo = np.full((60, 40), 250, dtype=np.uint8)  # white background
    >>> photo[10:50, 10:30] = 30                         # a dark garment
    >>> pixels = preprocess_image(photo).reshape(28, 28)
    >>> int(pixels[14, 14]), int(pixels[0, 0])           # light on black
    (220, 0)
    """
    from PIL import Image

    # uint8 throughout, in place where it can be: a picture costs a few
    # bytes per pixel, whatever its shape
    gray = np.array(_open(image), dtype=np.uint8)
    border = sum(_counts(edge) for edge in (gray[0], gray[-1], gray[:, 0], gray[:, -1]))
    if _percentile(border, 50) > 127:
        np.subtract(255, gray, out=gray)
        border = border[::-1]
    # the background level: most of the border, even where the garment touches it
    background = _percentile(border, 25)
    # the garment: above the background by more than the threshold
    threshold = min(255, int(np.floor(background)) + _OBJECT_THRESHOLD)
    garment = gray > threshold
    rows = np.flatnonzero(garment.any(axis=1))
    cols = np.flatnonzero(garment.any(axis=0))
    del garment
    if len(rows) and len(cols):
        gray = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    # the pixels less the background, truncated: max(0, g - ceil(background))
    level = np.uint8(np.ceil(background))
    gray = np.maximum(gray, level)
    gray -= level
    height, width = gray.shape
    scale = size / max(height, width)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Lanczos' weights take memory in proportion to the ratio: a side more
    # than 2 * _REDUCING_GAP times the output's is first box-reduced by a
    # whole factor (ordinary photos, sides under 14,336 px, are not)
    resized = Image.fromarray(gray).resize(
        new, Image.LANCZOS, reducing_gap=_REDUCING_GAP
    )
    canvas = Image.new("L", (size, size), 0)
    # center, an odd leftover pixel going first (as in Fashion-MNIST)
    canvas.paste(resized, ((size - new[0] + 1) // 2, (size - new[1] + 1) // 2))
    return np.asarray(canvas, dtype=np.uint8).reshape(-1)


class ImagePreprocessor(TransformerMixin, BaseEstimator):
    """Turn pictures (files or arrays) into rows of Fashion-MNIST-like pixels.

    Applies :func:`preprocess_image` to each element of ``X``, so a pipeline
    ``make_pipeline(ImagePreprocessor(), PixelScaler(), classifier)`` can
    classify photo files directly.

    Parameters
    ----------
    size : int, default=28
        Side of the square output images.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import ImagePreprocessor
    >>> photos = [np.full((30, 20), 255, np.uint8), np.zeros((10, 10), np.uint8)]
    >>> ImagePreprocessor().fit_transform(photos).shape
    (2, 784)
    """

    def __init__(self, *, size=28):
        self.size = size

    def fit(self, X, y=None):
        """Do nothing: the transformer is stateless.

        Parameters
        ----------
        X : sequence of str, path-like, PIL images or arrays
            Pictures.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        return self

    def transform(self, X):
        """Preprocess each picture.

        Parameters
        ----------
        X : sequence of str, path-like, PIL images or arrays
            Pictures.

        Returns
        -------
        pixels : ndarray of shape (n_pictures, size * size), dtype uint8
            One row per picture.
        """
        if isinstance(X, str | os.PathLike):
            raise TypeError("X must be a sequence of pictures, not a single path.")
        rows = [preprocess_image(image, size=self.size) for image in X]
        return np.stack(rows) if rows else np.empty((0, self.size**2), np.uint8)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
