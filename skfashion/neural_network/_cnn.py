"""FashionCNN: the report's convolutional network as a scikit-learn classifier."""

import numbers

from sklearn.utils._param_validation import Interval, StrOptions

from ..modules import ACTIVATIONS, CNNModule
from ._base import FashionNetBase
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._validation import PositiveInts

__all__ = ["FashionCNN"]


class FashionCNN(FashionNetBase):
    _module_parameters = (
        "image_shape",
        "filters",
        "kernel_size",
        "conv_activation",
        "dense_units",
        "negative_slope",
        "batch_norm",
        "dropout",
        "channels_last",
    )
    _parameter_constraints = {
        **FashionNetBase._parameter_constraints,
        "image_shape": [PositiveInts(length=2), None],
        "filters": [PositiveInts()],
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "conv_activation": [StrOptions({*ACTIVATIONS, "leaky_relu"})],
        "dense_units": [PositiveInts()],
        "negative_slope": [Interval(numbers.Real, None, None, closed="neither")],
        "batch_norm": ["boolean"],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "channels_last": ["boolean"],
    }

    __doc__ = f"""Convolutional neural network classifier (the original report's CNN).

    Three 5x5 "same" convolutions with tanh and 128, 256 and 512 filters, a
    2x2 max-pool after the first two, then Flatten -> Dense 128 ->
    LeakyReLU(0.1) -> Dense 64 -> LeakyReLU(0.1) -> Dense with one output per
    class; Adam (lr 1e-4, batch 32, 10 epochs) with an L2 penalty of 1e-4 on
    the dense kernels: ``FashionCNN()`` *is* the report's model.

    Inputs are flat rows of ``height * width`` pixels (what
    :class:`PixelScaler` returns), reshaped to images inside the network.

    Read more in the :ref:`User Guide <pipelines>`.

    Parameters
    ----------
    image_shape : tuple of int or None, default=(28, 28)
        ``(height, width)`` of the images. ``fit`` raises ``ValueError`` when
        the number of features is not ``height * width``. ``None`` takes
        each sample as one row of ``n_features`` values (a 1-D signal: 1xk
        convolutions, pooling along the row only).
    filters : tuple of int, default=(128, 256, 512)
        Output channels of each convolution.
    kernel_size : int, default=5
        Size of the square convolution kernels.
    conv_activation : str, default="tanh"
        Activation after each convolution: "tanh", "relu", "gelu", "elu",
        "sigmoid" or "leaky_relu".
    dense_units : tuple of int, default=(128, 64)
        Width of each hidden dense layer.
    negative_slope : float, default=0.1
        Slope of the dense layers' LeakyReLU activations.
    batch_norm : bool, default=False
        Put BatchNorm after each convolution and hidden dense layer.
    dropout : float, default=0.0
        Dropout rate after each hidden dense layer.
    channels_last : bool, default=True
        Run the convolutions in channels-last memory format: the same model,
        ~20 % faster in bfloat16 on CPUs with AMX (no difference in float32).
    module : torch.nn.Module class, default=CNNModule
        The network; built with ``n_classes`` and the architecture parameters
        above (plus any ``module__<name>``).
{COMMON_PARAMETERS}
    Attributes
    ----------
{COMMON_ATTRIBUTES}
    See Also
    --------
    FashionMLP : The report's dense network.
    PixelScaler : Scales pixels to [0, 1]; put it before the classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FashionCNN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(64, 64)).astype("float32")  # 8x8 "images"
    >>> y = np.where(X[:, :32].sum(1) > X[:, 32:].sum(1), "top", "bottom")
    >>> clf = FashionCNN(image_shape=(8, 8), filters=(4, 8), dense_units=(16,),
    ...                  lr=1e-2, max_epochs=3, random_state=0)
    >>> clf.fit(X, y).classes_
    array(['bottom', 'top'], dtype='<U6')
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        *,
        image_shape=(28, 28),
        filters=(128, 256, 512),
        kernel_size=5,
        conv_activation="tanh",
        dense_units=(128, 64),
        negative_slope=0.1,
        batch_norm=False,
        dropout=0.0,
        channels_last=True,
        module=CNNModule,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.image_shape = image_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.conv_activation = conv_activation
        self.dense_units = dense_units
        self.negative_slope = negative_slope
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.channels_last = channels_last
