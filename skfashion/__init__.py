"""skfashion: scikit-learn style neural networks for Fashion-MNIST.

Dense and convolutional classifiers trained with PyTorch through skorch, that
sit in scikit-learn pipelines, are tuned by ``GridSearchCV`` and are evaluated
with scikit-learn's metrics.
"""

from ._cnn import FashionCNN
from ._fast import FastFashionCNN
from ._image import ImagePreprocessor, preprocess_image
from ._mlp import FashionMLP
from ._persistence import load_model, save_model
from ._plotting import plot_confusion_matrix, plot_history, plot_mistakes
from ._preprocessing import PixelScaler
from .datasets import CLASS_NAMES, fetch_fashion_mnist, load_idx

__version__ = "0.1.0"

__all__ = [
    "CLASS_NAMES",
    "FashionCNN",
    "FashionMLP",
    "FastFashionCNN",
    "ImagePreprocessor",
    "PixelScaler",
    "__version__",
    "fetch_fashion_mnist",
    "load_idx",
    "load_model",
    "plot_confusion_matrix",
    "plot_history",
    "plot_mistakes",
    "preprocess_image",
    "save_model",
]
