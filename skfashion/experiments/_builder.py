"""What the report and the tuning build their runs from: the data, the
pipeline of a model on the chosen device and precision, and its speed on
this machine."""

from dataclasses import dataclass

import numpy as np

from ._timing import time_batches

__all__ = ["FashionData", "RunBuilder"]


@dataclass
class FashionData:
    """Fashion-MNIST's raw pixels: the training and the test images."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class RunBuilder:
    """The data and pipelines of one run: which copy of the data and how
    much of it, where and in which precision every pipeline trains.

    Examples
    --------
    >>> from skfashion.experiments import RunBuilder
    >>> pipe = RunBuilder(device="cpu").pipeline("mlp", max_epochs=2)
    >>> [name for name, _ in pipe.steps], pipe[-1].max_epochs
    (['pixelscaler', 'fashionmlp'], 2)
    """

    data_home: str | None = None
    device: str = "auto"
    precision: str = "auto"
    n_train: int | None = None  # the first n_train training images; all if None
    n_test: int | None = None

    @classmethod
    def of(cls, config, *, quick_sizes):
        """The builder of a command's configuration: its ``data_home``,
        ``device`` and ``precision``, and with ``quick`` the ``n_train``
        and ``n_test`` of ``quick_sizes``."""
        sizes = quick_sizes if config.quick else {}
        return cls(
            data_home=config.data_home,
            device=config.device,
            precision=config.precision,
            n_train=sizes.get("n_train"),
            n_test=sizes.get("n_test"),
        )

    def load(self):
        """The training and test images (:class:`FashionData`)."""
        from ..datasets import fetch_fashion_mnist

        train = fetch_fashion_mnist(subset="train", data_home=self.data_home)
        test = fetch_fashion_mnist(subset="test", data_home=self.data_home)
        return FashionData(
            train.data[: self.n_train],
            train.target[: self.n_train],
            test.data[: self.n_test],
            test.target[: self.n_test],
        )

    def pipeline(self, name, **params):
        """``PixelScaler`` and the classifier ``name`` (a short name of the
        catalog) on this run's device and precision, with ``params``."""
        from sklearn.pipeline import make_pipeline

        from ..neural_network import CLASSIFIERS
        from ..preprocessing import PixelScaler

        params = {"device": self.device, "precision": self.precision, **params}
        return make_pipeline(PixelScaler(), CLASSIFIERS[name](**params))

    def time(self, name, X, y, **params):
        """Seconds per training batch, per fit and per predicted sample of
        the pipeline of ``name`` (:func:`time_batches`, one epoch a fit)."""
        return time_batches(
            lambda: self.pipeline(name, **{**params, "max_epochs": 1}), X, y
        )
