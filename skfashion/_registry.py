"""The one list of skfashion's public estimators.

Persistence, the command line and the tests read it, so that a new
estimator cannot be forgotten by any of them (a test checks that every
public estimator of the package is listed here).
"""

from ._cnn import FashionCNN
from ._fast import FastFashionCNN
from ._image import ImagePreprocessor
from ._mlp import FashionMLP
from ._modules import CNNModule, FastCNNModule, MLPModule
from ._preprocessing import PixelScaler

__all__ = ["CLASSIFIERS", "MODULES", "TRANSFORMERS"]

#: The classifiers, by the short name the command line uses for them.
CLASSIFIERS = {"mlp": FashionMLP, "cnn": FashionCNN, "fast": FastFashionCNN}

#: The transformers that may come before a classifier in a saved pipeline.
TRANSFORMERS = (ImagePreprocessor, PixelScaler)

#: The networks the classifiers build (their ``module`` parameter).
MODULES = (MLPModule, CNNModule, FastCNNModule)
