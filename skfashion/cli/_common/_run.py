"""What the long commands (``report``, ``tune``) build their runs from: the
data, the pipeline of a model, the machine, numbers in words."""

from dataclasses import dataclass

import numpy as np

__all__ = ["FashionData", "load_data", "pct", "pipeline"]


@dataclass
class FashionData:
    """Fashion-MNIST's raw pixels: the training and the test images."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_data(data_home=None, n_train=None, n_test=None):
    """The training and test images, the first ``n_train`` and ``n_test`` of
    them (all by default)."""
    from skfashion import fetch_fashion_mnist

    train = fetch_fashion_mnist(subset="train", data_home=data_home)
    test = fetch_fashion_mnist(subset="test", data_home=data_home)
    return FashionData(
        train.data[:n_train],
        train.target[:n_train],
        test.data[:n_test],
        test.target[:n_test],
    )


def pipeline(name, **params):
    """``PixelScaler`` and the classifier ``name`` (a short name of the
    catalog) with these parameters."""
    from sklearn.pipeline import make_pipeline

    from skfashion import PixelScaler
    from skfashion.neural_network import CLASSIFIERS

    return make_pipeline(PixelScaler(), CLASSIFIERS[name](**params))


def pct(x):
    """A fraction as a percentage with two decimals; a dash for None."""
    return "–" if x is None else f"{100 * x:.2f} %"
