"""Plain PyTorch modules: the report's networks. No scikit-learn, no skorch.

Both modules take flat inputs of shape ``(batch, n_features)`` and return
logits. Their weights start as Keras' would: Glorot-uniform kernels and zero
biases, BatchNorm with Keras' momentum (0.99, i.e. PyTorch's 0.01) and
epsilon (1e-3).
"""

import math

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "CNNModule", "FastCNNModule", "MLPModule", "keras_init_"]

#: Activation functions by name, for the ``*_activation`` parameters.
ACTIVATIONS = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
}

KERAS_BN_MOMENTUM = 0.01  # Keras momentum=0.99 means new = 0.99*old + 0.01*batch
KERAS_BN_EPS = 1e-3


def keras_init_(module):
    """Initialise a module's layers as Keras does, in place.

    Dense and convolution kernels get Glorot-uniform weights and zero biases;
    BatchNorm layers get unit scale and zero shift.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            layer.reset_parameters()
    return module


def _activation(name, negative_slope):
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    return ACTIVATIONS[name]()


def _max_pool_2x2(height, width):
    """A 2x2 max-pool and the size after it; a dimension of size 1 (a row of
    pixels) is not pooled."""
    kernel = (2 if height > 1 else 1, 2 if width > 1 else 1)
    return nn.MaxPool2d(kernel), height // kernel[0], width // kernel[1]


def _dense_stack(n_in, units, negative_slope, batch_norm, dropout):
    """Dense -> LeakyReLU -> [BatchNorm] -> [Dropout] for each hidden layer."""
    layers = []
    for n_out in units:
        layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(negative_slope)]
        if batch_norm:
            layers.append(
                nn.BatchNorm1d(n_out, eps=KERAS_BN_EPS, momentum=KERAS_BN_MOMENTUM)
            )
        if dropout:
            layers.append(nn.Dropout(dropout))
        n_in = n_out
    return layers, n_in


class MLPModule(nn.Sequential):
    """The report's dense network.

    Dense -> LeakyReLU -> BatchNorm for each hidden layer, then a Dense layer
    with one logit per class.

    Parameters
    ----------
    n_features : int
        Number of input features (784 for Fashion-MNIST).
    n_classes : int
        Number of output logits.
    hidden_units : tuple of int, default=(1024, 512, 256)
        Width of each hidden layer.
    negative_slope : float, default=0.1
        Slope of the LeakyReLU for negative inputs.
    batch_norm : bool, default=True
        Put a BatchNorm layer after each hidden activation.
    dropout : float, default=0.0
        Dropout rate after each hidden layer (0 for none).

    Examples
    --------
    >>> import torch
    >>> from skfashion._modules import MLPModule
    >>> MLPModule(784, 10)(torch.zeros(2, 784)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_units=(1024, 512, 256),
        negative_slope=0.1,
        batch_norm=True,
        dropout=0.0,
    ):
        layers, n_in = _dense_stack(
            n_features, hidden_units, negative_slope, batch_norm, dropout
        )
        super().__init__(*layers, nn.Linear(n_in, n_classes))
        keras_init_(self)


class CNNModule(nn.Module):
    """The report's convolutional network.

    Convolutions with "same" padding and a fixed activation, a 2x2 max-pool
    after each but the last, then a dense head of Dense -> LeakyReLU layers
    and one logit per class.

    Parameters
    ----------
    n_classes : int
        Number of output logits.
    image_shape : tuple of int, default=(28, 28)
        ``(height, width)`` of the single-channel images; inputs are flat
        rows of ``height * width`` pixels. A height of 1 makes the network a
        1-D convolutional network over a row of values.
    filters : tuple of int, default=(128, 256, 512)
        Output channels of each convolution.
    kernel_size : int, default=5
        Size of the square convolution kernels.
    conv_activation : str, default="tanh"
        Activation after each convolution: one of ``ACTIVATIONS`` or
        ``"leaky_relu"``.
    dense_units : tuple of int, default=(128, 64)
        Width of each hidden dense layer.
    negative_slope : float, default=0.1
        Slope of the dense layers' LeakyReLU (and of a leaky conv activation).
    batch_norm : bool, default=False
        Put a BatchNorm layer after each convolution and hidden dense layer.
    dropout : float, default=0.0
        Dropout rate after each hidden dense layer.
    channels_last : bool, default=False
        Run the convolutions in channels-last memory format (faster on some
        CPUs, with identical results up to rounding).

    Examples
    --------
    >>> import torch
    >>> from skfashion._modules import CNNModule
    >>> net = CNNModule(10, filters=(4, 8), dense_units=(16,))
    >>> net(torch.zeros(3, 784)).shape
    torch.Size([3, 10])
    """

    def __init__(
        self,
        n_classes,
        image_shape=(28, 28),
        filters=(128, 256, 512),
        kernel_size=5,
        conv_activation="tanh",
        dense_units=(128, 64),
        negative_slope=0.1,
        batch_norm=False,
        dropout=0.0,
        channels_last=False,
    ):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.channels_last = channels_last
        convs = []
        n_in = 1
        height, width = self.image_shape
        for i, n_out in enumerate(filters):
            convs.append(nn.Conv2d(n_in, n_out, kernel_size, padding="same"))
            if batch_norm:
                convs.append(
                    nn.BatchNorm2d(n_out, eps=KERAS_BN_EPS, momentum=KERAS_BN_MOMENTUM)
                )
            convs.append(_activation(conv_activation, negative_slope))
            if i < len(filters) - 1:
                pool, height, width = _max_pool_2x2(height, width)
                convs.append(pool)
            n_in = n_out
        self.features = nn.Sequential(*convs)
        layers, n_hidden = _dense_stack(
            n_in * height * width, dense_units, negative_slope, batch_norm, dropout
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), *layers, nn.Linear(n_hidden, n_classes)
        )
        if channels_last:
            self.to(memory_format=torch.channels_last)
        keras_init_(self)

    def forward(self, x):
        x = x.reshape(-1, 1, *self.image_shape)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.features(x)
        if self.channels_last:
            # flatten in (channels, height, width) order, as without it
            x = x.contiguous()
        return self.classifier(x)


def augment_batch(x, *, flip=True, crop_padding=2, erase_prob=0.0):
    """Random flips, shifted crops and erased patches for a batch of images.

    Vectorised over the batch: no per-sample Python loop. ``x`` has shape
    ``(n, 1, height, width)``.
    """
    n, _, height, width = x.shape
    if flip:
        mirrored = torch.rand(n, device=x.device) < 0.5
        x = torch.where(mirrored[:, None, None, None], x.flip(-1), x)
    if crop_padding:
        p = crop_padding
        py = p if height > 1 else 0  # a row of pixels shifts along the row only
        padded = nn.functional.pad(x, (p, p, py, py))
        dy = torch.randint(0, 2 * py + 1, (n, 1, 1), device=x.device)
        dx = torch.randint(0, 2 * p + 1, (n, 1, 1), device=x.device)
        rows = dy + torch.arange(height, device=x.device)[None, :, None]
        cols = dx + torch.arange(width, device=x.device)[None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None]
        x = padded[batch, 0, rows, cols][:, None]
    if erase_prob:
        # erase one random rectangle (up to half of each side) per chosen image
        size_y = torch.randint(1, height // 2 + 1, (n, 1, 1), device=x.device)
        size_x = torch.randint(1, width // 2 + 1, (n, 1, 1), device=x.device)
        top = (torch.rand(n, 1, 1, device=x.device) * (height - size_y + 1)).long()
        left = (torch.rand(n, 1, 1, device=x.device) * (width - size_x + 1)).long()
        r = torch.arange(height, device=x.device)[None, :, None]
        c = torch.arange(width, device=x.device)[None, None, :]
        inside = (r >= top) & (r < top + size_y) & (c >= left) & (c < left + size_x)
        chosen = (torch.rand(n, 1, 1, device=x.device) < erase_prob) & inside
        x = x.masked_fill(chosen[:, None], 0.0)
    return x


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
    >>> from skfashion._modules import FastCNNModule
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
        height, width = height - patch[0] + 1, width - patch[1] + 1
        groups = []
        n_in = self.whiten.out_channels
        for channels in widths:
            group = _ConvGroup(
                n_in, channels, convs_per_stage, height, width, frozen_norm_scale
            )
            groups.append(group)
            (height, width), n_in = group.out_shape, channels
        self.features = nn.Sequential(*groups)
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


def n_parameters(module):
    """Number of trainable parameters of a module."""
    return sum(math.prod(p.shape) for p in module.parameters() if p.requires_grad)
