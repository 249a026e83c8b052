"""FastFashionCNN's network, after the CIFAR-10 speed runs (airbench)."""

import math

import torch
from torch import nn

from ._layers import _max_pool_2x2, augment_batch

__all__ = ["FastCNNModule"]


class _ConvGroup(nn.Sequential):
    """Conv 3x3 -> max-pool 2x2 -> BatchNorm -> GELU, then ``n_convs - 1``
    times Conv 3x3 -> BatchNorm -> GELU (airbench's block: the first
    convolution runs before the pooling, at the higher resolution)."""

    def __init__(self, n_in, n_out, n_convs, height, width, frozen_scale):
        pool, height, width = _max_pool_2x2(height, width)
        layers = [_conv3x3(n_in, n_out), pool, _norm(n_out, frozen_scale), nn.GELU()]
        for _ in range(n_convs - 1):
            layers += [_conv3x3(n_out, n_out), _norm(n_out, frozen_scale), nn.GELU()]
        super().__init__(*layers)
        self.out_shape = (height, width)


def _conv3x3(n_in, n_out):
    return nn.Conv2d(n_in, n_out, 3, padding=1, bias=False)


def _norm(channels, frozen_scale):
    """BatchNorm with a fast running average (momentum 0.4); with
    ``frozen_scale`` its scale stays 1 and only its shift trains."""
    norm = nn.BatchNorm2d(channels, eps=1e-12, momentum=0.4)
    norm.weight.requires_grad_(not frozen_scale)
    return norm


def _feature_groups(n_in, widths, convs_per_stage, shape, frozen_scale):
    """One :class:`_ConvGroup` per width, each halving the image; and the
    number of channels out."""
    groups = []
    height, width = shape
    for channels in widths:
        group = _ConvGroup(n_in, channels, convs_per_stage, height, width, frozen_scale)
        groups.append(group)
        (height, width), n_in = group.out_shape, channels
    return nn.Sequential(*groups), n_in


class FastCNNModule(nn.Module):
    """A small fast CNN after the CIFAR-10 speed runs (airbench).

    A 2x2 patch-whitening convolution (frozen; its weights are set from the
    training images by :meth:`fit_whitening`) and GELU, then one group per
    entry of ``widths``: a 3x3 convolution, a 2x2 max-pool, BatchNorm and
    GELU, and ``convs_per_stage - 1`` more 3x3 convolutions with BatchNorm
    and GELU; global max-pooling and a linear layer whose logits are scaled
    by 1/9. The convolutions start as identities on their first channels
    (``identity_init``). In training mode the module augments its input
    batch (random horizontal flips, random shifts of up to ``crop_padding``
    pixels, optionally random erasing); in evaluation mode with ``tta`` it
    averages the logits of each image and its mirror image.

    Parameters
    ----------
    n_classes : int
        Number of output logits.
    image_shape : tuple of int, default=(28, 28)
        ``(height, width)``; inputs are flat rows of pixels.
    widths : tuple of int, default=(64, 128, 256)
        Channels of each group; the image is halved in each.
    convs_per_stage : int, default=2
        Convolutions per group.
    whiten : bool, default=True
        Frozen patch-whitening first layer; ``False`` makes it an ordinary
        trainable convolution.
    identity_init : bool, default=True
        Start each 3x3 convolution as the identity on its first channels
        (PyTorch's default initialisation otherwise, and for the others).
    frozen_norm_scale : bool, default=True
        Keep the BatchNorm scales at 1 (only the shifts train).
    dropout : float, default=0.0
        Dropout before the linear layer.
    flip, crop_padding, erase_prob :
        Augmentation in training mode; see :func:`augment_batch`.
    tta : bool, default=True
        In evaluation mode, average the logits of each image and its mirror
        image (test-time augmentation).
    channels_last : bool, default=True
        Channels-last memory format for the convolutions.

    Examples
    --------
    >>> import torch
    >>> from skfashion.modules import FastCNNModule
    >>> FastCNNModule(10, widths=(8, 16))(torch.zeros(2, 784)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        n_classes,
        image_shape=(28, 28),
        widths=(64, 128, 256),
        convs_per_stage=2,
        whiten=True,
        identity_init=True,
        frozen_norm_scale=True,
        dropout=0.0,
        flip=True,
        crop_padding=1,
        erase_prob=0.0,
        tta=True,
        channels_last=True,
    ):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.augmentation = {
            "flip": flip,
            "crop_padding": crop_padding,
            "erase_prob": erase_prob,
        }
        self.tta = tta
        self.channels_last = channels_last
        height, width = self.image_shape
        patch = (2 if height > 1 else 1, 2 if width > 1 else 1)
        self.whiten = nn.Conv2d(1, 2 * math.prod(patch), patch)
        self.whiten.weight.requires_grad_(not whiten)
        #: whether fit_whitening should set the first layer (the estimator's
        #: ``whitening`` callback reads it)
        self.needs_whitening = whiten
        shape = (height - patch[0] + 1, width - patch[1] + 1)
        self.features, n_in = _feature_groups(
            self.whiten.out_channels, widths, convs_per_stage, shape, frozen_norm_scale
        )
        self.head = nn.Sequential(
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout) if dropout else nn.Identity(),
            nn.Linear(n_in, n_classes, bias=False),
        )
        if identity_init:
            for m in self.features.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.dirac_(m.weight.data[: m.in_channels])
        if channels_last:
            self.to(memory_format=torch.channels_last)

    @torch.no_grad()
    def fit_whitening(self, x, eps=5e-4):
        """Set the first layer to whiten the patches of images ``x``.

        Its filters become the eigenvectors of the patches' covariance
        divided by the square roots of their eigenvalues (plus ``eps`` times
        the mean eigenvalue), each also negated; its bias maps the mean patch
        to 0. ``x`` has shape ``(n, height * width)``.
        """
        weight = self.whiten.weight
        x = torch.as_tensor(x, device=weight.device).reshape(-1, 1, *self.image_shape)
        patches = nn.functional.unfold(x.double(), self.whiten.kernel_size)
        patches = patches.transpose(1, 2).reshape(-1, patches.shape[1])
        mean = patches.mean(0)
        centred = patches - mean
        cov = centred.T @ centred / len(centred)
        evals, evecs = torch.linalg.eigh(cov)
        evals = evals.clamp(min=0) + eps * evals.clamp(min=0).mean()
        filters = evecs.T / evals.sqrt()[:, None]
        bias = -(filters @ mean)
        weight.copy_(torch.cat([filters, -filters]).reshape(weight.shape))
        self.whiten.bias.copy_(torch.cat([bias, -bias]))

    def forward(self, x, tta=None):
        x = x.reshape(-1, 1, *self.image_shape)
        if self.training:
            return self._logits(augment_batch(x, **self.augmentation))
        logits = self._logits(x)
        if self.tta if tta is None else tta:
            logits = (logits + self._logits(x.flip(-1))) / 2
        return logits

    def _logits(self, x):
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = nn.functional.gelu(self.whiten(x))
        return self.head(self.features(x)) / 9
