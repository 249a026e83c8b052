"""FastFashionCNN: a modern small CNN that beats the report's in minutes."""

import numbers

import torch
from sklearn.utils._param_validation import Interval

from ._base import FashionNetBase
from ._docs import COMMON_ATTRIBUTES
from ._modules import FastCNNModule
from ._training import OneCycle
from ._validation import PositiveInts

__all__ = ["FastFashionCNN"]


class FastFashionCNN(FashionNetBase):
    _module_parameters = (
        "image_shape",
        "widths",
        "convs_per_stage",
        "dropout",
        "flip",
        "crop_padding",
        "erase_prob",
        "channels_last",
    )
    _parameter_constraints = {
        **FashionNetBase._parameter_constraints,
        "widths": [PositiveInts()],
        "convs_per_stage": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "flip": ["boolean"],
        "crop_padding": [Interval(numbers.Integral, 0, None, closed="left")],
        "erase_prob": [Interval(numbers.Real, 0, 1, closed="both")],
        "label_smoothing": [Interval(numbers.Real, 0, 1, closed="left")],
        "image_shape": [PositiveInts(length=2), None],
        "channels_last": ["boolean"],
    }

    __doc__ = f"""A fast, accurate CNN for Fashion-MNIST with a modern recipe.

    A 290k-parameter network -- stages of 3x3 convolutions with BatchNorm and
    ReLU, max-pooling between stages, global average pooling -- trained with
    AdamW, a one-cycle learning-rate schedule, label smoothing and on-the-fly
    augmentation (random horizontal flips, random crops of the image padded by
    2 pixels, optionally random erasing), in batches of 256: about 94 % test
    accuracy in under 10 minutes on a 2-core CPU, where the original report's
    CNN reached 91.9 % in half an hour (15 epochs gave 93.8 %).

    Parameters
    ----------
    widths : tuple of int, default=(32, 64, 128)
        Channels of each stage; the image is halved between stages.
    convs_per_stage : int, default=2
        3x3 convolutions per stage.
    dropout : float, default=0.0
        Dropout before the linear layer.
    flip : bool, default=True
        Random horizontal flips in training.
    crop_padding : int, default=2
        Random crops of the image padded by this many pixels (0: none).
    erase_prob : float, default=0.0
        Probability of erasing a random rectangle of a training image.
    label_smoothing : float, default=0.1
        Label smoothing of the cross-entropy loss.
    image_shape : tuple of int or None, default=(28, 28)
        ``(height, width)`` of the images; ``None`` takes each sample as one
        row of values, as in :class:`FashionCNN`.
    channels_last : bool, default=True
        Channels-last memory format for the convolutions.
    lr : float, default=4e-3
        Peak learning rate of the one-cycle schedule.
    max_epochs : int, default=24
        Number of epochs; the schedule spans them all.
    batch_size : int, default=256
        Training batch size.
    optimizer : torch optimizer class, default=torch.optim.AdamW
        Its weight decay is ``optimizer__weight_decay`` (default 0.05 here).
    l2 : float, default=0.0
        Keras-style L2 penalty on the linear layer (weight decay does the job).
    module : torch.nn.Module class, default=FastCNNModule
        The network; built with ``n_classes`` and the architecture parameters
        above but ``label_smoothing`` (plus any ``module__<name>``).
    **kwargs
        The other parameters of :class:`FashionCNN` (``validation_split``,
        ``random_state``, ``device``, ``precision``, ``callbacks``,
        ``verbose``, ...) and skorch's prefixed parameters.

    Attributes
    ----------
{COMMON_ATTRIBUTES}
    See Also
    --------
    FashionCNN : The original report's CNN.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FastFashionCNN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(64, 64)).astype("float32")
    >>> y = (X[:, :32].sum(1) > X[:, 32:].sum(1)).astype(int)
    >>> clf = FastFashionCNN(image_shape=(8, 8), widths=(4, 8), max_epochs=2,
    ...                      random_state=0).fit(X, y)
    >>> clf.predict(X[:4]).shape
    (4,)
    """

    def __init__(
        self,
        *,
        widths=(32, 64, 128),
        convs_per_stage=2,
        dropout=0.0,
        flip=True,
        crop_padding=2,
        erase_prob=0.0,
        label_smoothing=0.1,
        image_shape=(28, 28),
        channels_last=True,
        lr=4e-3,
        max_epochs=24,
        batch_size=256,
        optimizer=torch.optim.AdamW,
        l2=0.0,
        module=FastCNNModule,
        **kwargs,
    ):
        super().__init__(
            module,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            l2=l2,
            **kwargs,
        )
        self.widths = widths
        self.convs_per_stage = convs_per_stage
        self.dropout = dropout
        self.flip = flip
        self.crop_padding = crop_padding
        self.erase_prob = erase_prob
        self.label_smoothing = label_smoothing
        self.image_shape = image_shape
        self.channels_last = channels_last

    @property
    def _default_callbacks(self):
        return [*super()._default_callbacks, ("one_cycle", OneCycle())]

    def _criterion_params(self):
        return {**super()._criterion_params(), "label_smoothing": self.label_smoothing}

    def get_params_for_optimizer(self, prefix, named_parameters):
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if prefix == "optimizer" and "weight_decay" not in self.get_params_for(
            "optimizer"
        ):
            kwargs["weight_decay"] = 0.05
        return args, kwargs
