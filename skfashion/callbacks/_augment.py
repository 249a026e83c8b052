"""Robustness trained in: random corruptions of the training batches."""

import math
import numbers

import torch
import torch.nn.functional as F
from skorch.callbacks import Callback

__all__ = ["RobustAugmentation"]

#: Every corruption the callback draws from, in the order it applies them.
OPS = (
    "affine",
    "noise",
    "impulse",
    "blur",
    "brightness",
    "contrast",
    "invert",
    "flip",
    "turn",
)


class RobustAugmentation(Callback):
    """Corrupt a random share of each training batch: robustness to shift.

    In the spirit of AugMix (Hendrycks et al., 2020) without its mixing and
    consistency loss: each training image is, with probability
    ``probability``, passed through 1 to ``depth`` distinct corruptions
    drawn from ``ops`` (random rotations, shears and scalings, Gaussian and
    salt-and-pepper noise, Gaussian blur, brightness and contrast changes,
    inversion, flips and quarter turns), each at a random strength, then
    clipped to the pixel range. The rest of the batch stays clean.

    It acts on the network's input through a forward pre-hook that runs only
    while the module is in training mode: validation scores, ``predict`` and
    every export see the images as they are. It makes new tensors, never
    touching the training data, and removes its hook when the fit ends.
    Random numbers come from PyTorch's generator, which the estimator's
    ``random_state`` seeds.

    Its corruptions are of the same families as Fashion-MNIST-C's
    (:func:`skfashion.datasets.make_fashion_mnist_c`): what it gains there is
    robustness to corruptions it has seen in kind, not to new ones.

    Parameters
    ----------
    probability : float, default=0.5
        Share of the training images corrupted (each image drawn
        independently), in [0, 1].
    ops : sequence of str or None, default=None
        The corruptions to draw from, among ``"affine"``, ``"noise"``,
        ``"impulse"``, ``"blur"``, ``"brightness"``, ``"contrast"``,
        ``"invert"``, ``"flip"`` and ``"turn"``; None: all of them
        (``"turn"`` only for square images).
    depth : int, default=3
        Most corruptions per image (each corrupted image gets between 1 and
        ``depth``, uniformly, distinct ones).
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of the images; None: the estimator's
        ``image_shape`` if it has one, else the square that holds its
        ``n_features_in_`` pixels.

    Examples
    --------
    Any classifier trains with it:

    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> from skfashion.callbacks import RobustAugmentation
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 16).astype(np.float32), np.arange(60) % 2
    >>> net = FashionMLP(hidden_units=(8,), max_epochs=2, random_state=0,
    ...                  callbacks=[RobustAugmentation(depth=2)]).fit(X, y)
    >>> len(net.history_), net.predict(X[:3]).shape
    (2, (3,))
    """

    def __init__(self, probability=0.5, ops=None, depth=3, image_shape=None):
        self.probability = probability
        self.ops = ops
        self.depth = depth
        self.image_shape = image_shape

    # --------------------------------------------------------------- checks
    def _checked(self, net):
        p = self.probability
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(
                f"RobustAugmentation's probability must be a float in [0, 1]; "
                f"got {p!r}."
            )
        if (
            not isinstance(self.depth, numbers.Integral)
            or isinstance(self.depth, bool)
            or self.depth < 1
        ):
            raise ValueError(
                f"RobustAugmentation's depth must be an int >= 1; got {self.depth!r}."
            )
        shape = self._shape(net)
        if self.ops is None:
            ops = [op for op in OPS if op != "turn" or shape[0] == shape[1]]
        else:
            if isinstance(self.ops, str):
                raise ValueError(
                    "RobustAugmentation's ops must be a list of corruption "
                    f"names, not a string; got {self.ops!r} (write [{self.ops!r}])."
                )
            ops = list(self.ops)
            unknown = [op for op in ops if op not in OPS]
            if unknown or not ops or len(set(ops)) != len(ops):
                raise ValueError(
                    f"RobustAugmentation's ops must be distinct names among "
                    f"{list(OPS)}; got {self.ops!r}."
                )
            if "turn" in ops and shape[0] != shape[1]:
                raise ValueError(
                    f"RobustAugmentation's 'turn' needs square images; "
                    f"image_shape is {shape}."
                )
        return [op for op in OPS if op in ops], shape

    def _shape(self, net):
        shape = image_shape_of(net, self.image_shape, "RobustAugmentation")
        if min(shape) < 2:
            raise ValueError(
                f"RobustAugmentation needs images of 2 pixels a side or more; "
                f"image_shape is {shape}."
            )
        return shape

    # ------------------------------------------------------------- training
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._remove()
        ops, shape = self._checked(net)
        high = float(getattr(net, "input_max_", None) or 1.0)
        self.ops_, self.image_shape_, self.high_ = ops, shape, high
        self._handle = net.module_.register_forward_pre_hook(self._hook)

    def on_train_end(self, net, **kwargs):
        self._remove()

    def _remove(self):
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.remove()
        self._handle = None

    def _hook(self, module, args):
        if not module.training or not args or not self.probability:
            return None
        x, *rest = args
        return (self.augment(x), *rest)

    @torch.no_grad()
    def augment(self, x):
        """A corrupted copy of the batch ``x`` (``(n, height * width)`` or
        any shape of as many values per image), of its shape and dtype."""
        device = x.device
        with torch.autocast(device.type, enabled=False):
            n = len(x)
            images = x.reshape(n, 1, *self.image_shape_).float() / self.high_
            corrupted = torch.rand(n, device=device) < self.probability
            k = len(self.ops_)
            count = torch.randint(1, min(self.depth, k) + 1, (n,), device=device)
            order = torch.rand(n, k, device=device).argsort(dim=1).argsort(dim=1)
            chosen = (order < count[:, None]) & corrupted[:, None]
            for i, op in enumerate(self.ops_):
                mask = chosen[:, i]
                if mask.any():
                    images[mask] = _OPS[op](images[mask])
            images = images.clamp(0.0, 1.0) * self.high_
        return images.to(x.dtype).reshape(x.shape)


def image_shape_of(net, given, owner):
    """``(height, width)`` of ``net``'s images for the callback ``owner``:
    ``given``, else the estimator's ``image_shape``, else the square that
    holds its ``n_features_in_`` pixels; checked against those features."""
    shape = given
    if shape is None:
        shape = getattr(net, "image_shape", None)
    n = getattr(net, "n_features_in_", None)
    if shape is None:
        side = math.isqrt(n) if n else 0
        if side * side != n or not n:
            raise ValueError(
                f"{owner} needs images: {n} features are no "
                "square; give image_shape=(height, width)."
            )
        shape = (side, side)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or min(shape) < 1 or (n and shape[0] * shape[1] != n):
        raise ValueError(
            f"{owner}'s image_shape {shape} does not hold the "
            f"{n} features of each sample."
        )
    return shape


# ---------------------------------------------------------------- the ops
def _uniform(n, low, high, like):
    return torch.empty(n, device=like.device).uniform_(low, high)


def _affine(x):
    n = len(x)
    angle = _uniform(n, -1.0, 1.0, x)  # radian
    shear = _uniform(n, -0.8, 0.8, x)
    scale = _uniform(n, 0.5, 1.1, x)
    cos, sin = angle.cos(), angle.sin()
    # rotation times shear, divided by the zoom: where each output pixel reads
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0] = cos / scale
    theta[:, 0, 1] = (cos * shear - sin) / scale
    theta[:, 1, 0] = sin / scale
    theta[:, 1, 1] = (sin * shear + cos) / scale
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


def _noise(x):
    return x + torch.randn_like(x) * _uniform(len(x), 0.02, 0.4, x)[:, None, None, None]


def _impulse(x):
    share = _uniform(len(x), 0.01, 0.25, x)[:, None, None, None]
    hit = torch.rand_like(x) < share
    salt = (torch.rand_like(x) < 0.5).to(x.dtype)
    return torch.where(hit, salt, x)


def _blur(x):
    n, _, h, w = x.shape
    sigma = _uniform(n, 0.4, 1.5, x)
    r = 3
    t = torch.arange(-r, r + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(t[None] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # (n, 2r+1)
    # one kernel per image: the batch as channels of one image, grouped
    y = x.reshape(1, n, h, w)
    y = F.conv2d(
        F.pad(y, (r, r, 0, 0), mode="replicate"), kernel[:, None, None, :], groups=n
    )
    y = F.conv2d(
        F.pad(y, (0, 0, r, r), mode="replicate"), kernel[:, None, :, None], groups=n
    )
    return y.reshape(n, 1, h, w)


def _brightness(x):
    return x + _uniform(len(x), 0.1, 0.5, x)[:, None, None, None]


def _contrast(x):
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(len(x), 0.05, 1.0, x)[:, None, None, None] + mean


def _invert(x):
    return 1.0 - x


def _flip(x):
    vertical = (torch.rand(len(x), device=x.device) < 0.5)[:, None, None, None]
    return torch.where(vertical, x.flip(-2), x.flip(-1))


def _turn(x):
    left = (torch.rand(len(x), device=x.device) < 0.5)[:, None, None, None]
    return torch.where(left, x.rot90(1, (-2, -1)), x.rot90(-1, (-2, -1)))


_OPS = {
    "affine": _affine,
    "noise": _noise,
    "impulse": _impulse,
    "blur": _blur,
    "brightness": _brightness,
    "contrast": _contrast,
    "invert": _invert,
    "flip": _flip,
    "turn": _turn,
}
