"""skfashion: scikit-learn style neural networks for Fashion-MNIST.

Dense and convolutional classifiers trained with PyTorch through skorch, that
sit in scikit-learn pipelines, are tuned by ``GridSearchCV`` and are evaluated
with scikit-learn's metrics.

The public names are imported when first used (PEP 562), so that
``import skfashion`` and the command line's ``--help`` do not wait for
PyTorch and scikit-learn; ``from skfashion import FashionMLP`` imports what
that class needs.
"""

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

# public name -> the private module that defines it
_MODULES = {
    "CLASS_NAMES": ".datasets",
    "FashionCNN": "._cnn",
    "FashionMLP": "._mlp",
    "FastFashionCNN": "._fast",
    "calibration_bins": "._calibration",
    "expected_calibration_error": "._calibration",
    "export_onnx": "._onnx",
    "ImagePreprocessor": "._image",
    "PixelScaler": "._preprocessing",
    "fetch_fashion_mnist": ".datasets",
    "load_idx": ".datasets",
    "load_model": "._persistence",
    "plot_confusion_matrix": "._plotting",
    "plot_history": "._plotting",
    "plot_mistakes": "._plotting",
    "plot_reliability": "._calibration",
    "preprocess_image": "._image",
    "save_model": "._persistence",
}

__all__ = [
    "CLASS_NAMES",
    "FashionCNN",
    "FashionMLP",
    "FastFashionCNN",
    "ImagePreprocessor",
    "PixelScaler",
    "__version__",
    "calibration_bins",
    "expected_calibration_error",
    "export_onnx",
    "fetch_fashion_mnist",
    "load_idx",
    "load_model",
    "plot_confusion_matrix",
    "plot_history",
    "plot_mistakes",
    "plot_reliability",
    "preprocess_image",
    "save_model",
]


def __getattr__(name):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name], __name__), name)
    globals()[name] = value  # imported once
    return value


def __dir__():
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what static tools and IDEs see
    from ._calibration import (
        calibration_bins,
        expected_calibration_error,
        plot_reliability,
    )
    from ._cnn import FashionCNN
    from ._fast import FastFashionCNN
    from ._image import ImagePreprocessor, preprocess_image
    from ._mlp import FashionMLP
    from ._onnx import export_onnx
    from ._persistence import load_model, save_model
    from ._plotting import plot_confusion_matrix, plot_history, plot_mistakes
    from ._preprocessing import PixelScaler
    from .datasets import CLASS_NAMES, fetch_fashion_mnist, load_idx
