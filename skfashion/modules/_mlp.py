"""The report's dense network."""

from torch import nn

from ._layers import _dense_stack, keras_init_

__all__ = ["MLPModule"]


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
    >>> from skfashion.modules import MLPModule
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
