"""Fashion-MNIST-C, regenerated: the corruptions of Weiss & Tonella (2022),
which are MNIST-C's (Mu & Gilmer, 2019) plus flips and turns, at five
severities, from the Fashion-MNIST images and a seed.

Each image draws from a random generator of its own (NumPy's PCG64, seeded
by ``(random_state, index)``), so an image's corruption does not depend on
which other images are corrupted with it, and the arithmetic is what is the
same on every CPU: elementwise NumPy operations, SciPy's ``ndimage`` filters
and interpolation (compiled C, no CPU-specific paths), filter weights and
matrices from Python's ``math``, a mean from the integer pixel sum.
"""

import math
import numbers

import numpy as np

__all__ = [
    "CORRUPTIONS",
    "CORRUPTION_FAMILIES",
    "corrupt_images",
    "make_fashion_mnist_c",
]

#: the default set of Fashion-MNIST-C, in its order
CORRUPTIONS = (
    "shot_noise",
    "impulse_noise",
    "glass_blur",
    "motion_blur",
    "shear",
    "scale",
    "rotate",
    "brightness",
    "contrast",
    "saturate",
    "inverse",
    "flip_left_right",
    "flip_up_down",
    "turn_left",
    "turn_right",
)
#: each corruption's family: the operation of the training augmentations
#: (:class:`~skfashion.callbacks.RobustAugmentation`,
#: :data:`~skfashion.callbacks.IN_FAMILY_OPS`) that makes its kind of change
CORRUPTION_FAMILIES = {
    "shot_noise": "noise",
    "impulse_noise": "impulse",
    "glass_blur": "blur",
    "motion_blur": "blur",
    "shear": "affine",
    "scale": "affine",
    "rotate": "affine",
    "brightness": "brightness",
    "contrast": "contrast",
    "saturate": "contrast",
    "inverse": "invert",
    "flip_left_right": "flip",
    "flip_up_down": "flip",
    "turn_left": "turn",
    "turn_right": "turn",
}
SEVERITIES = (1, 2, 3, 4, 5)
#: ITU-R BT.709 luma, as scikit-image's ``rgb2gray`` (MNIST-C's gray)
_LUMA = np.array([0.2125, 0.7154, 0.0721])


def _gaussian(x, sigma):
    """scikit-image's ``gaussian`` (MNIST-C's blur): a Gaussian of ``sigma``
    truncated at 4 sigma, edges repeated, as two 1-D correlations."""
    from scipy import ndimage

    radius = int(4.0 * sigma + 0.5)
    weights = [math.exp(-0.5 * (i / sigma) ** 2) for i in range(-radius, radius + 1)]
    total = math.fsum(weights)
    weights = np.array([w / total for w in weights])
    x = ndimage.correlate1d(x, weights, axis=0, mode="nearest")
    return ndimage.correlate1d(x, weights, axis=1, mode="nearest")


def _affine(x, matrix):
    """``x`` warped by ``matrix`` (2x2, in (column, row) coordinates, as
    scikit-image's ``AffineTransform``) about the centre of the image, which
    stays fixed: bilinear, zeros outside, as MNIST-C's ``warp``."""
    from scipy import ndimage

    (a, b), (c, d) = matrix
    rows_cols = np.array([[d, c], [b, a]])  # the same map in (row, column)
    centre = (np.array(x.shape) - 1) / 2
    offset = centre - rows_cols @ centre
    return ndimage.affine_transform(
        x, rows_cols, offset=offset, order=1, mode="constant", cval=0.0
    )


def _sign(rng):
    return 1.0 if rng.integers(2) else -1.0


def _shot_noise(x, severity, rng):
    c = (60, 25, 12, 5, 3)[severity - 1]
    return rng.poisson(x * c) / c


def _impulse_noise(x, severity, rng):
    # scikit-image's "s&p": that share of the pixels, half white, half black
    amount = (0.03, 0.06, 0.09, 0.17, 0.27)[severity - 1]
    hit = rng.random(x.shape) < amount
    salt = rng.random(x.shape) < 0.5
    x = x.copy()
    x[hit & salt] = 1.0
    x[hit & ~salt] = 0.0
    return x


def _glass_blur(x, severity, rng):
    # blurred, pixels swapped with a neighbour at random, blurred again
    sigma, delta, rounds = (
        (0.7, 1, 2),
        (0.9, 2, 1),
        (1, 2, 3),
        (1.1, 3, 2),
        (1.5, 4, 2),
    )[severity - 1]
    height, width = x.shape
    blurred = np.floor(_gaussian(x, sigma) * 255)  # MNIST-C's uint8 step
    pixels = blurred.tolist()
    rows = range(height - delta, delta, -1)
    cols = range(width - delta, delta, -1)
    n = rounds * len(rows) * len(cols)
    swaps = rng.random(n) < 0.5
    moves = rng.integers(-delta, delta, size=(n, 2)).tolist()
    k = 0
    for _ in range(rounds):
        for h in rows:
            for w in cols:
                if swaps[k]:
                    dx, dy = moves[k]
                    h2, w2 = h + dy, w + dx
                    pixels[h][w], pixels[h2][w2] = pixels[h2][w2], pixels[h][w]
                k += 1
    return _gaussian(np.array(pixels) / 255, sigma)


def _motion_blur(x, severity, rng):
    # ImageMagick's motion blur (MNIST-C's): a one-sided smear of
    # 2 * radius + 1 taps with Gaussian weights, at an angle in [-45, 45]
    radius, sigma = ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15))[severity - 1]
    angle = math.radians(rng.uniform(-45, 45))
    taps = 2 * radius + 1
    weights = [math.exp(-(i * i) / (2 * sigma * sigma)) for i in range(taps)]
    total = math.fsum(weights)
    height, width = x.shape
    padded = np.pad(x, taps, mode="edge")
    out = np.zeros_like(x)
    for i, weight in enumerate(weights):
        dx, dy = round(i * math.cos(angle)), round(i * math.sin(angle))
        out += (weight / total) * padded[
            taps + dy : taps + dy + height, taps + dx : taps + dx + width
        ]
    return out


def _shear(x, severity, rng):
    shear = (0.2, 0.4, 0.6, 0.8, 1.0)[severity - 1] * _sign(rng)
    return _affine(x, [[1.0, -math.sin(shear)], [0.0, math.cos(shear)]])


def _scale(x, severity, rng):
    # the inverse map scales up: the garment shrinks about the centre
    factor = 1 / (0.9, 0.8, 0.7, 0.6, 0.5)[severity - 1]
    return _affine(x, [[factor, 0.0], [0.0, factor]])


def _rotate(x, severity, rng):
    angle = (0.2, 0.4, 0.6, 0.8, 1.0)[severity - 1] * _sign(rng)  # radians
    cos, sin = math.cos(angle), math.sin(angle)
    return _affine(x, [[cos, -sin], [sin, cos]])


def _brightness(x, severity, rng):
    # MNIST-C adds c to the value in HSV; a gray pixel's value is the pixel
    c = (0.1, 0.2, 0.3, 0.4, 0.5)[severity - 1]
    return x + c


def _contrast(x, severity, rng, mean):
    c = (0.4, 0.3, 0.2, 0.1, 0.05)[severity - 1]
    return (x - mean) * c + mean


def _saturate(x, severity, rng):
    # MNIST-C scales and shifts hue, saturation and value alike, then takes
    # the gray of the colour: a gray pixel has hue and saturation 0
    from matplotlib.colors import hsv_to_rgb

    scale, shift = ((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2))[severity - 1]
    value = np.clip(x * scale + shift, 0, 1)
    hsv = np.stack([np.full_like(x, shift), np.full_like(x, shift), value], axis=-1)
    return hsv_to_rgb(hsv) @ _LUMA


def _inverse(x, severity, rng):
    return 1.0 - x


def _flip_left_right(x, severity, rng):
    return x[:, ::-1]


def _flip_up_down(x, severity, rng):
    return x[::-1]


def _turn_left(x, severity, rng):
    return np.rot90(x, 1)


def _turn_right(x, severity, rng):
    return np.rot90(x, 3)


_FUNCTIONS = {name: globals()[f"_{name}"] for name in CORRUPTIONS}


def _seed(random_state):
    if random_state is None:
        return np.random.SeedSequence().entropy
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(
        "random_state must be an int, a numpy RandomState or None, "
        f"got {random_state!r}."
    )


def _check_images(X):
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[1] == 784:
        images = X.reshape(-1, 28, 28)
    elif X.ndim == 3 and X.shape[1:] == (28, 28):
        images = X
    else:
        raise ValueError(
            "X must hold 28x28 images, as rows of 784 pixels or an array of "
            f"shape (n_images, 28, 28); got shape {X.shape}."
        )
    if X.dtype != np.uint8:
        if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
            raise ValueError(f"X must hold pixel values 0-255, got dtype {X.dtype}.")
        if X.size and not (np.isfinite(X).all() and X.min() >= 0 and X.max() <= 255):
            raise ValueError(
                "X must hold pixel values from 0 to 255 (as Fashion-MNIST's); "
                "found values outside that range or not finite."
            )
        images = np.rint(images).astype(np.uint8)
    return X.shape, images


def _check_choice(corruption, severity):
    if corruption != "mixed" and corruption not in CORRUPTIONS:
        raise ValueError(
            f"corruption must be 'mixed' or one of {', '.join(CORRUPTIONS)}; "
            f"got {corruption!r}."
        )
    if severity is not None and (
        isinstance(severity, bool) or severity not in SEVERITIES
    ):
        raise ValueError(f"severity must be 1, 2, 3, 4, 5 or None, got {severity!r}.")


def _corrupt(images, corruption, severity, seed):
    out = np.empty_like(images)
    names = np.empty(len(images), dtype=object)
    levels = np.empty(len(images), dtype=np.int64)
    for i, image in enumerate(images):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        name = (
            CORRUPTIONS[rng.integers(len(CORRUPTIONS))]
            if corruption == "mixed"
            else corruption
        )
        level = int(rng.integers(1, 6)) if severity is None else severity
        x = image / 255.0
        if name == "contrast":
            mean = int(image.sum(dtype=np.int64)) / (255 * image.size)
            x = _contrast(x, level, rng, mean)
        else:
            x = _FUNCTIONS[name](x, level, rng)
        out[i] = np.rint(np.clip(x, 0.0, 1.0) * 255)
        names[i], levels[i] = name, level
    return out, names.astype(str), levels


def corrupt_images(X, corruption="mixed", *, severity=None, random_state=None):
    """Corrupt Fashion-MNIST images the way Fashion-MNIST-C does.

    Each of the 15 corruptions of Fashion-MNIST-C's default set (Weiss &
    Tonella, 2022: MNIST-C's noise, blur and transformations, and flips and
    turns), at one of five severities, or one random corruption at a random
    severity per image, as the published data set. The same ``X`` and
    ``random_state`` give the same images, on every CPU; an image's
    corruption does not depend on the other images.

    Read more in the :ref:`User Guide <shift>`.

    Parameters
    ----------
    X : array-like of shape (n_images, 784) or (n_images, 28, 28)
        Pixel values 0-255 (uint8, or numbers in that range, which are
        rounded).
    corruption : str, default="mixed"
        One of :data:`CORRUPTIONS`, or ``"mixed"``: a corruption drawn at
        random for each image.
    severity : {1, 2, 3, 4, 5} or None, default=None
        How strong; None draws one for each image. ``inverse`` and the flips
        and turns have a single strength.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws (the noise, the directions, the choices).

    Returns
    -------
    X_corrupted : ndarray of the shape of ``X``, dtype uint8
        The corrupted images, rounded to the nearest pixel value.
    corruptions : ndarray of shape (n_images,), dtype str
        The corruption of each image.
    severities : ndarray of shape (n_images,), dtype int64
        The severity of each image.

    See Also
    --------
    make_fashion_mnist_c : The Fashion-MNIST test images, corrupted, with
        their labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion.datasets import corrupt_images
    >>> X = np.zeros((3, 784), dtype=np.uint8)
    >>> X_c, corruptions, severities = corrupt_images(
    ...     X, "inverse", severity=2, random_state=0
    ... )
    >>> X_c.dtype, X_c.shape, int(X_c.min()), corruptions.tolist()
    (dtype('uint8'), (3, 784), 255, ['inverse', 'inverse', 'inverse'])
    """
    _check_choice(corruption, severity)
    seed = _seed(random_state)
    shape, images = _check_images(X)
    out, names, levels = _corrupt(images, corruption, severity, seed)
    return out.reshape(shape), names, levels


def make_fashion_mnist_c(
    *,
    subset="test",
    corruption="mixed",
    severity=None,
    n_samples=None,
    random_state=0,
    data_home=None,
    return_X_y=False,
):
    """Fashion-MNIST-C, regenerated offline from Fashion-MNIST.

    The images of ``subset`` corrupted by :func:`corrupt_images`: by default
    the 10,000 test images, each with a corruption and a severity drawn at
    random, as the published Fashion-MNIST-C (whose own draws were not
    seeded: the same corruptions, not the same images).

    Read more in the :ref:`User Guide <shift>`.

    Parameters
    ----------
    subset : {"test", "train", "all"}, default="test"
        Which Fashion-MNIST images to corrupt.
    corruption : str, default="mixed"
        One of :data:`CORRUPTIONS`, or ``"mixed"``.
    severity : {1, 2, 3, 4, 5} or None, default=None
        None draws one for each image.
    n_samples : int, default=None
        Corrupt only the first ``n_samples`` images (the same images as the
        first ones of a larger set with the same seed).
    random_state : int, RandomState instance or None, default=0
        Seeds the draws.
    data_home : str or path-like, default=None
        Where Fashion-MNIST is looked for, as in
        :func:`fetch_fashion_mnist`.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        data : ndarray of shape (n_samples, 784), dtype uint8
            The corrupted images, one row each.
        images : ndarray of shape (n_samples, 28, 28), dtype uint8
            The same pixels as images.
        target : ndarray of shape (n_samples,), dtype int64
            The labels (a corruption keeps the garment's class).
        corruption : ndarray of shape (n_samples,), dtype str
            Each image's corruption.
        severity : ndarray of shape (n_samples,), dtype int64
            Each image's severity.
        target_names : list of str
            The ten class names.
        DESCR : str
            What the data set is.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skfashion.datasets import make_fashion_mnist_c
    >>> shifted = make_fashion_mnist_c(n_samples=100, random_state=0)
    >>> shifted.data.shape, shifted.target.shape, len(set(shifted.corruption))
    ((100, 784), (100,), 15)
    """
    from sklearn.utils import Bunch

    from ._fashion_mnist import CLASS_NAMES, fetch_fashion_mnist

    _check_choice(corruption, severity)
    if n_samples is not None and (
        not isinstance(n_samples, numbers.Integral)
        or isinstance(n_samples, bool)
        or n_samples < 1
    ):
        raise ValueError(
            f"n_samples must be a positive int or None, got {n_samples!r}."
        )
    seed = _seed(random_state)
    data = fetch_fashion_mnist(subset=subset, data_home=data_home)
    X, y = data.data[:n_samples], data.target[:n_samples]
    images, names, levels = _corrupt(X.reshape(-1, 28, 28), corruption, severity, seed)
    flat = images.reshape(len(images), -1)
    if return_X_y:
        return flat, y
    return Bunch(
        data=flat,
        images=images,
        target=y,
        corruption=names,
        severity=levels,
        target_names=list(CLASS_NAMES),
        DESCR=(
            f"Fashion-MNIST-C, regenerated: the {subset} images of Fashion-MNIST, "
            f"corruption {corruption!r}, severity "
            f"{'drawn per image' if severity is None else severity}, seed {seed} "
            "(skfashion.datasets.corrupt_images; Weiss & Tonella, 2022, after "
            "Mu & Gilmer's MNIST-C, 2019)."
        ),
    )
