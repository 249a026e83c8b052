"""The classifiers: skorch nets that are complete scikit-learn classifiers.

``FashionMLP`` and ``FashionCNN`` are the original report's dense and
convolutional networks, ``FastFashionCNN`` the CIFAR-10 speed runs' recipe.
All three share one base (``FashionNetBase``): parameter and input
validation, label encoding, sample and class weights, ``random_state``,
``fit``/``partial_fit``, prediction, the device and precision they run on.
Their networks are in :mod:`skfashion.modules`, what happens while they
train in :mod:`skfashion.callbacks`.
"""

from .._catalog import MODELS
from ._base import FashionNetBase
from ._cnn import FashionCNN
from ._components import SmoothedSoftmaxInverse
from ._fast import FastFashionCNN
from ._mlp import FashionMLP

__all__ = [
    "CLASSIFIERS",
    "FashionCNN",
    "FashionMLP",
    "FashionNetBase",
    "FastFashionCNN",
    "SmoothedSoftmaxInverse",
]

#: Every classifier, by the short name the command line uses for it.
CLASSIFIERS = {name: globals()[model["estimator"]] for name, model in MODELS.items()}
