"""skfashion: scikit-learn style neural networks for Fashion-MNIST.

Dense and convolutional classifiers trained with PyTorch through skorch, that
sit in scikit-learn pipelines, are tuned by ``GridSearchCV`` and are evaluated
with scikit-learn's metrics.

The public names are imported when first used (PEP 562), so that
``import skfashion`` and the command line's ``--help`` do not wait for
PyTorch and scikit-learn; ``from skfashion import FashionMLP`` imports what
that class needs.

The subpackages hold the rest, one concept each: :mod:`skfashion.datasets`,
:mod:`skfashion.preprocessing`, :mod:`skfashion.neural_network` (the
classifiers), :mod:`skfashion.modules` (their PyTorch networks),
:mod:`skfashion.callbacks`, :mod:`skfashion.evaluation`,
:mod:`skfashion.io` (model files, ONNX), :mod:`skfashion.tuning`,
:mod:`skfashion.serve` (HTTP) and :mod:`skfashion.utils`.
"""

from typing import TYPE_CHECKING

from ._lazy import attach
from ._version import __version__

# public name -> the public subpackage that defines it
_MODULES = {
    "CLASS_NAMES": ".datasets",
    "FashionCNN": ".neural_network",
    "FashionMLP": ".neural_network",
    "FastFashionCNN": ".neural_network",
    "calibration_bins": ".evaluation",
    "expected_calibration_error": ".evaluation",
    "export_onnx": ".io",
    "ImagePreprocessor": ".preprocessing",
    "PixelScaler": ".preprocessing",
    "fetch_fashion_mnist": ".datasets",
    "load_idx": ".datasets",
    "load_model": ".io",
    "plot_confusion_matrix": ".evaluation",
    "plot_history": ".evaluation",
    "plot_mistakes": ".evaluation",
    "plot_reliability": ".evaluation",
    "preprocess_image": ".preprocessing",
    "save_model": ".io",
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


__getattr__, __dir__ = attach(__name__, _MODULES)


if TYPE_CHECKING:  # what static tools and IDEs see
    from .datasets import CLASS_NAMES, fetch_fashion_mnist, load_idx
    from .evaluation import (
        calibration_bins,
        expected_calibration_error,
        plot_confusion_matrix,
        plot_history,
        plot_mistakes,
        plot_reliability,
    )
    from .io import export_onnx, load_model, save_model
    from .neural_network import FashionCNN, FashionMLP, FastFashionCNN
    from .preprocessing import ImagePreprocessor, PixelScaler, preprocess_image
