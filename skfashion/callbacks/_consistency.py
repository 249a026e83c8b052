"""Consistency training: robustness at no clean cost, in the spirit of
AugMix (Hendrycks et al., 2020)."""

import math
import numbers

import torch
import torch.nn.functional as F
from skorch.callbacks import Callback

from ._augment import image_shape_of

__all__ = ["DISJOINT_OPS", "IN_FAMILY_OPS", "ConsistencyTraining"]

#: operations of none of Fashion-MNIST-C's corruption families (noise,
#: blur, affine, intensity, inversion, flips, turns): what a model gains
#: from them on Fashion-MNIST-C carries to corruptions it never saw
DISJOINT_OPS = ("translate", "autocontrast", "equalize", "posterize", "elastic")
#: operations of Fashion-MNIST-C's own families: gains from them are
#: in-family, on corruptions seen in kind
IN_FAMILY_OPS = (
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


def _kornia_op(name):
    """The kornia augmentation of ``name``, each image drawing its own
    strength (from PyTorch's generator, which the estimator seeds)."""
    try:
        import kornia.augmentation as K
    except ImportError as exc:
        raise ImportError(
            'ConsistencyTraining needs kornia: pip install "skfashion[robust]"'
        ) from exc

    ops = {
        # disjoint from Fashion-MNIST-C's families
        "translate": lambda: K.RandomTranslate((0.0, 0.15), (0.0, 0.15), p=1.0),
        "autocontrast": lambda: K.RandomAutoContrast(p=1.0),
        "equalize": lambda: K.RandomEqualize(p=1.0),
        "posterize": lambda: K.RandomPosterize(bits=(3.0, 6.0), p=1.0),
        "elastic": lambda: K.RandomElasticTransform(
            kernel_size=(7, 7), sigma=(4.0, 4.0), alpha=(1.0, 1.0), p=1.0
        ),
        # Fashion-MNIST-C's families
        "affine": lambda: K.RandomAffine(
            degrees=30.0, shear=20.0, scale=(0.7, 1.1), p=1.0
        ),
        "noise": lambda: K.RandomGaussianNoise(std=0.15, p=1.0),
        "impulse": lambda: K.RandomSaltAndPepperNoise(
            amount=(0.01, 0.1), salt_vs_pepper=(0.5, 0.5), p=1.0
        ),
        "blur": lambda: K.RandomGaussianBlur((5, 5), (0.1, 1.5), p=1.0),
        "brightness": lambda: K.RandomBrightness((0.6, 1.4), p=1.0),
        "contrast": lambda: K.RandomContrast((0.3, 1.0), p=1.0),
        "invert": lambda: K.RandomInvert(p=1.0),
        "flip": lambda: K.RandomHorizontalFlip(p=1.0),
        "turn": lambda: K.RandomRotation90(times=(1, 3), p=1.0),
    }
    return ops[name]()


def _is_int(value, low):
    return (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value >= low
    )


def _is_positive(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


class ConsistencyTraining(Callback):
    """Train for robustness without paying in clean accuracy.

    In the spirit of AugMix (Hendrycks et al., 2020): the classification
    loss is computed on the clean images only, and a Jensen-Shannon
    consistency term, weighted by ``weight``, ties the network's
    predictions on ``views`` augmented views of each image to its
    prediction on the image itself.
    Each view is an AugMix mix: ``width`` chains of 1 to ``depth``
    operations drawn from ``ops``, weighted by a Dirichlet draw, then
    blended back with the clean image by a Beta draw (both of ``alpha``).
    The operations are kornia's batched augmentations, each image drawing
    its own strength.

    By default the operations are :data:`DISJOINT_OPS`, of none of
    Fashion-MNIST-C's corruption families, so that accuracy measured there
    is on corruptions the model never saw in kind; ``ops="in_family"``
    (:data:`IN_FAMILY_OPS`) draws from those families, for comparison.

    The clean images and their views go through the network as one batch
    of ``1 + views`` times the size (so batch normalization sees all of
    them), while
    the module is in training mode; validation, ``predict`` and every
    export see the network alone. The callback adds its hooks when a fit
    begins and removes them when it ends; with it absent, training is what
    it is without it, bit for bit. Random numbers come from PyTorch's
    generator, which the estimator's ``random_state`` seeds.

    Parameters
    ----------
    weight : float, default=12.0
        The consistency term's weight (AugMix's 12).
    views : int, default=1
        Augmented views of each image. A batch costs about ``1 + views``
        times a plain one: on a 2-core AMD EPYC (AVX2), one epoch of
        ``FastFashionCNN()`` took 1.8 times as long with one view and 2.9
        times with AugMix's two.
    ops : {"disjoint", "in_family"} or sequence of str, default="disjoint"
        The operations the views draw from: a named set, or names among
        :data:`DISJOINT_OPS` and :data:`IN_FAMILY_OPS` (``"turn"`` only for
        square images).
    width : int, default=3
        Chains mixed into each view.
    depth : int, default=3
        Most operations of a chain (each has 1 to ``depth``, uniformly).
    alpha : float, default=1.0
        The Dirichlet and Beta concentration of the mixing weights.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of the images; None: the estimator's
        ``image_shape`` if it has one, else the square that holds its
        ``n_features_in_`` pixels.

    Attributes
    ----------
    ops_ : list of str
        The operations drawn from, in the fit under way or the last one.
    last_term_ : float
        The consistency term of the last training batch (its mean over the
        batch, weighted).

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> from skfashion.callbacks import ConsistencyTraining
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 16).astype(np.float32), np.arange(60) % 2
    >>> net = FashionMLP(hidden_units=(8,), max_epochs=2, random_state=0,
    ...                  callbacks=[ConsistencyTraining(width=2)]).fit(X, y)
    >>> net.predict(X[:3]).shape, net.callbacks[0].ops_[:2]
    ((3,), ['translate', 'autocontrast'])
    """

    def __init__(
        self,
        weight=12.0,
        views=1,
        ops="disjoint",
        width=3,
        depth=3,
        alpha=1.0,
        image_shape=None,
    ):
        self.weight = weight
        self.views = views
        self.ops = ops
        self.width = width
        self.depth = depth
        self.alpha = alpha
        self.image_shape = image_shape

    # --------------------------------------------------------------- checks
    def _checked_ops(self, shape):
        named = {"disjoint": DISJOINT_OPS, "in_family": IN_FAMILY_OPS}
        known = DISJOINT_OPS + IN_FAMILY_OPS
        if isinstance(self.ops, str):
            if self.ops not in named:
                raise ValueError(
                    "ConsistencyTraining's ops must be 'disjoint', 'in_family' "
                    f"or a list of operation names; got {self.ops!r}."
                )
            ops = [op for op in named[self.ops] if op != "turn" or shape[0] == shape[1]]
        else:
            ops = list(self.ops)
            unknown = [op for op in ops if op not in known]
            if unknown or not ops or len(set(ops)) != len(ops):
                raise ValueError(
                    "ConsistencyTraining's ops must be distinct names among "
                    f"{list(known)}; got {self.ops!r}."
                )
            if "turn" in ops and shape[0] != shape[1]:
                raise ValueError(
                    "ConsistencyTraining's 'turn' needs square images; "
                    f"image_shape is {shape}."
                )
        return ops

    def _checked(self, net):
        if not _is_positive(self.weight):
            raise ValueError(
                "ConsistencyTraining's weight must be a positive float; "
                f"got {self.weight!r}."
            )
        if not _is_positive(self.alpha):
            raise ValueError(
                "ConsistencyTraining's alpha must be a positive float; "
                f"got {self.alpha!r}."
            )
        for name in ("views", "width", "depth"):
            if not _is_int(getattr(self, name), 1):
                raise ValueError(
                    f"ConsistencyTraining's {name} must be an int >= 1; "
                    f"got {getattr(self, name)!r}."
                )
        shape = image_shape_of(net, self.image_shape, "ConsistencyTraining")
        return self._checked_ops(shape), shape

    # ------------------------------------------------------------- training
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._remove()
        ops, shape = self._checked(net)
        self.ops_, self.image_shape_ = ops, shape
        self.high_ = float(getattr(net, "input_max_", None) or 1.0)
        self.augmentations_ = [_kornia_op(op) for op in ops]
        self.pending_term_ = None
        self.last_term_ = None
        self.handles_ = [
            net.module_.register_forward_pre_hook(self._views),
            net.module_.register_forward_hook(self._consistency),
            net.criterion_.register_forward_hook(self._add_term),
        ]

    def on_train_end(self, net, **kwargs):
        self._remove()

    def _remove(self):
        for handle in getattr(self, "handles_", None) or ():
            handle.remove()
        self.handles_ = None
        self.pending_term_ = None
        self.augmentations_ = None  # kornia's modules: not kept in a pickle

    def _active(self, module):
        return module.training and torch.is_grad_enabled()

    def _views(self, module, args):
        """The batch, then its augmented views: one batch."""
        if not self._active(module) or not args:
            return None
        x, *rest = args
        views = [self.augment(x) for _ in range(self.views)]
        return (torch.cat([x, *views]), *rest)

    def _consistency(self, module, args, output):
        """The clean images' part of the output, the consistency term kept."""
        if not self._active(module) or not isinstance(output, torch.Tensor):
            return None
        clean, *views = output.chunk(1 + self.views)
        self.pending_term_ = self.weight * jensen_shannon(clean, *views)
        return clean

    def _add_term(self, criterion, args, loss):
        """The criterion's loss plus the consistency term: per image where
        the criterion gives one loss per image, their means otherwise."""
        term, self.pending_term_ = self.pending_term_, None
        if term is None:
            return None
        self.last_term_ = float(term.detach().mean())
        if loss.ndim == 0:
            term = term.mean()
        return loss + term.to(loss.dtype)

    @torch.no_grad()
    def augment(self, x):
        """An AugMix view of the batch ``x`` (``(n, height * width)`` or any
        shape of as many values per image), of its shape and dtype."""
        device = x.device
        n = len(x)
        with torch.autocast(device.type, enabled=False):
            images = x.reshape(n, 1, *self.image_shape_).float() / self.high_
            images = images.clamp(0.0, 1.0)
            concentration = torch.full((self.width,), float(self.alpha))
            mixing = torch.distributions.Dirichlet(concentration).sample((n,))
            blend = torch.distributions.Beta(self.alpha, self.alpha).sample((n,))
            mixed = torch.zeros_like(images)
            for chain in range(self.width):
                view = images
                steps = torch.randint(1, self.depth + 1, ()).item()
                for _ in range(steps):
                    op = self.augmentations_[
                        torch.randint(len(self.augmentations_), ()).item()
                    ]
                    view = op(view).clamp(0.0, 1.0)
                weight = mixing[:, chain].to(device).view(n, 1, 1, 1)
                mixed = mixed + weight * view
            b = blend.to(device).view(n, 1, 1, 1)
            out = (b * images + (1 - b) * mixed) * self.high_
        return out.to(x.dtype).reshape(x.shape)


def jensen_shannon(*logits):
    """The Jensen-Shannon divergence of the softmaxes of ``logits`` (each
    ``(n, classes)``), per row: the mean of each one's Kullback-Leibler
    divergence from their mixture, the mixture clamped as in AugMix."""
    probs = [F.softmax(z.float(), dim=1) for z in logits]
    mixture = torch.clamp(sum(probs) / len(probs), 1e-7, 1.0).log()
    return sum(F.kl_div(mixture, p, reduction="none").sum(dim=1) for p in probs) / len(
        probs
    )
