"""What the networks share: Keras' initialisation and BatchNorm settings,
activations by name, pooling, dense stacks and batch augmentation."""

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "augment_batch", "keras_init_"]

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
