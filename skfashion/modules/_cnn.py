"""The report's convolutional network."""

import torch
from torch import nn

from ._layers import (
    KERAS_BN_EPS,
    KERAS_BN_MOMENTUM,
    _activation,
    _dense_stack,
    _max_pool_2x2,
    keras_init_,
)

__all__ = ["CNNModule"]


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
    >>> from skfashion.modules import CNNModule
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
