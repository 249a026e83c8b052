"""FashionMLP: the report's dense network as a scikit-learn classifier."""

import numbers

from sklearn.utils._param_validation import Interval

from ..modules import MLPModule
from ._base import FashionNetBase
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._validation import PositiveInts

__all__ = ["FashionMLP"]


class FashionMLP(FashionNetBase):
    _module_data = ("n_features", "n_classes")
    _module_parameters = ("hidden_units", "negative_slope", "batch_norm", "dropout")
    _parameter_constraints = {
        **FashionNetBase._parameter_constraints,
        "hidden_units": [PositiveInts()],
        "negative_slope": [Interval(numbers.Real, None, None, closed="neither")],
        "batch_norm": ["boolean"],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    __doc__ = f"""Dense neural network classifier (the original report's dense net).

    Flatten -> [Dense -> LeakyReLU(0.1) -> BatchNorm] for 1024, 512 and 256
    units -> Dense with one output per class, trained with Adam (lr 1e-4,
    batch 32, 10 epochs) and an L2 penalty of 1e-4 on the dense kernels:
    ``FashionMLP()`` *is* the report's model. It accepts any number of
    features, so it is a general classifier for tabular data too.

    Read more in the :ref:`User Guide <pipelines>`.

    Parameters
    ----------
    hidden_units : tuple of int, default=(1024, 512, 256)
        Width of each hidden layer.
    negative_slope : float, default=0.1
        Slope of the LeakyReLU activations for negative inputs.
    batch_norm : bool, default=True
        Put a BatchNorm layer (Keras' momentum 0.99, epsilon 1e-3) after each
        hidden activation.
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    module : torch.nn.Module class, default=MLPModule
        The network; built with ``n_features``, ``n_classes`` and the
        architecture parameters above (plus any ``module__<name>``).
{COMMON_PARAMETERS}
    Attributes
    ----------
{COMMON_ATTRIBUTES}
    See Also
    --------
    FashionCNN : The report's convolutional network.
    PixelScaler : Scales pixels to [0, 1]; put it before the classifier.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfashion import FashionMLP
    >>> X, y = make_classification(n_samples=200, n_features=20, random_state=0)
    >>> clf = FashionMLP(hidden_units=(32,), lr=1e-2, max_epochs=5, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.8
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.history_[-1, "valid_acc"] > 0.5
    True
    """

    def __init__(
        self,
        *,
        hidden_units=(1024, 512, 256),
        negative_slope=0.1,
        batch_norm=True,
        dropout=0.0,
        module=MLPModule,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.hidden_units = hidden_units
        self.negative_slope = negative_slope
        self.batch_norm = batch_norm
        self.dropout = dropout
