"""Checks of the classifiers' parameters and data, each one small function.

Parameters are checked declaratively, as scikit-learn's estimators do
(``_parameter_constraints``); the functions here check what the data must
satisfy and turn the weights into what the training loop uses.
"""

import numbers
import os
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight
from torch import nn

from ..utils import PRECISIONS

__all__ = [
    "NET_CONSTRAINTS",
    "PositiveInts",
    "check_batch_norm",
    "check_n_features",
    "fit_label_encoder",
    "sample_weights",
    "validation_mask",
    "warn_if_unscaled",
    "writeable",
]


#: The constraints of the parameters every classifier has (scikit-learn's
#: declarative parameter validation); subclasses add their architecture's.
NET_CONSTRAINTS = {
    "lr": [Interval(numbers.Real, 0, None, closed="neither")],
    "max_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
    "batch_size": [
        Interval(numbers.Integral, 1, None, closed="left"),
        Options(numbers.Integral, {-1}),
    ],
    "l2": [Interval(numbers.Real, 0, None, closed="left")],
    "validation_split": [
        Interval(numbers.Real, 0, 1, closed="left"),
        None,
        slice,
        "array-like",
    ],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    "random_state": ["random_state"],
    "device": [str, torch.device, None],
    "precision": [StrOptions(set(PRECISIONS))],
    "checkpoint_dir": [str, os.PathLike, None],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
}


def check_batch_norm(net):
    """BatchNorm layers cannot train on batches of one sample, unless each
    channel has several values (pixels) to average over."""
    if net.batch_size == 1 and _single_value_norms(net):
        raise ValueError(
            f"batch_size=1 cannot train {type(net).__name__}'s BatchNorm layers: "
            "one sample has no batch statistics. Use batch_size >= 2 (or -1 for "
            "the whole data set)"
            + (", or turn batch_norm off." if hasattr(net, "batch_norm") else ".")
        )


def _single_value_norms(net):
    """Whether a BatchNorm layer of the module sees one value per channel for
    one sample: any BatchNorm1d, or a BatchNorm2d after the image has been
    pooled to one pixel (seen on a forward pass of one sample)."""
    module = net.module_
    norms = [
        m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    if any(isinstance(m, nn.BatchNorm1d) for m in norms):
        return True
    single = []

    def hook(layer, inputs):
        single.append(inputs[0][0].numel() == inputs[0].shape[1])

    handles = [m.register_forward_pre_hook(hook) for m in norms]
    training = module.training
    try:
        module.eval()
        with torch.no_grad():
            device = next(module.parameters()).device
            module(torch.zeros(1, net.n_features_in_, device=device))
    except Exception:  # a module with other inputs: let PyTorch say it later
        return False
    finally:
        module.train(training)
        for handle in handles:
            handle.remove()
    return any(single)


def check_monitors(net, split_param):
    """Without validation data, no callback can monitor a validation score
    (skorch would fail after the first epoch with a KeyError on the
    history): say so before training, naming what to set."""
    for name, callback in net.callbacks_:
        monitor = getattr(callback, "monitor", None)
        if isinstance(monitor, str) and monitor.startswith("valid_"):
            value = getattr(net, split_param)
            why = (
                "gives no validation samples"
                if value is None
                else "leaves no validation sample for this data"
            )
            raise ValueError(
                f"Callback {name!r} ({type(callback).__name__}) monitors "
                f"{monitor!r}, which needs validation data, but "
                f"{split_param}={value!r} {why}. Set {split_param} (e.g. 0.1), "
                f"or monitor a training score such as "
                f"{'train_' + monitor.removeprefix('valid_')!r}."
            )


class PositiveInts(Options):
    """Parameter constraint: a tuple (or list) of positive ints, each the
    size of a layer; ``length`` fixes how many.

    A subclass of scikit-learn's ``Options`` only because
    ``validate_parameter_constraints`` accepts its own constraint classes.
    """

    def __init__(self, length=None):
        super().__init__(object, set())
        self.length = length

    def is_satisfied_by(self, val):
        return (
            isinstance(val, tuple | list)
            and (self.length is None or len(val) == self.length)
            and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                for v in val
            )
        )

    def __str__(self):
        n = f"{self.length} " if self.length else ""
        return f"a tuple of {n}positive ints"


def check_n_features(estimator, n_features):
    """Image networks need ``height * width`` features (``image_shape``)."""
    image_shape = getattr(estimator, "image_shape", None)
    if image_shape is None:
        return
    n_pixels = int(np.prod(image_shape))
    if n_features != n_pixels:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} with "
            f"image_shape={tuple(image_shape)} expects {n_pixels} (one per pixel)."
        )


def fit_label_encoder(estimator, y, classes=None):
    """A LabelEncoder of ``classes`` (or of ``y``); at least two classes."""
    encoder = LabelEncoder().fit(y if classes is None else classes)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in "
            "the data, but the data contains only one class: "
            f"{encoder.classes_.tolist()[0]!r}."
        )
    return encoder


def sample_weights(X, y, sample_weight, class_weight, reduction):
    """``sample_weight`` times ``class_weight``'s weights, scaled to a mean of 1
    (so that scaling them changes nothing); None when all are equal (so that
    equal weights are the unweighted fit, bit for bit). ``reduction`` is the
    criterion's: the weights need per-sample losses."""
    if sample_weight is None and class_weight is None:
        return None
    weights = _check_sample_weight(
        sample_weight, X, dtype=np.float32, ensure_non_negative=True
    )
    if class_weight is not None:
        weights = weights * compute_sample_weight(class_weight, y)
    total = float(weights.sum(dtype=np.float64))
    if not total > 0:
        raise ValueError(
            "sample_weight (times class_weight) is zero for every sample: "
            "there is nothing to learn from."
        )
    if np.all(weights == weights[0]):
        return None
    if reduction != "none":
        raise ValueError(
            "sample_weight and class_weight need per-sample losses: a criterion "
            "built with reduction='none' (skfashion's default for torch's "
            f"losses); got reduction={reduction!r}."
        )
    return (weights * (len(weights) / total)).astype(np.float32)


def validation_mask(split, y, seed):
    """Boolean mask of the validation samples, or None for no validation.

    ``split`` is a fraction (a stratified sample drawn with ``seed``), None,
    or the indices, slice or boolean mask of the validation samples.
    """
    n = len(y)
    if split is None or split is False:
        return None
    mask = np.zeros(n, dtype=bool)
    if isinstance(split, numbers.Real) and not isinstance(split, bool):
        n_valid = int(np.floor(split * n))
        if n_valid < 1 or n - n_valid < 1:
            return None
        index = np.arange(n)
        try:  # stratified where every class can be represented
            _, valid = train_test_split(
                index, test_size=n_valid, stratify=y, random_state=seed
            )
        except ValueError:
            _, valid = train_test_split(index, test_size=n_valid, random_state=seed)
        mask[valid] = True
        return mask
    try:
        mask[split] = True
    except (IndexError, TypeError, ValueError) as exc:
        raise ValueError(
            "validation_split must be a fraction in [0, 1), None, or the "
            "indices, slice or boolean mask of the validation samples in X; "
            f"got {split!r} for {n} samples ({exc})."
        ) from None
    if mask.all():
        raise ValueError("validation_split selects every sample: none to train on.")
    return mask


def warn_if_unscaled(estimator, X):
    """Warn when a network trained on [0, 1] gets raw 0-255 pixels."""
    trained_max = getattr(estimator, "input_max_", None)
    if trained_max is None or trained_max > 1 or not X.size:
        return
    high = float(max(X.max(), -X.min()))
    if high > 2:
        warnings.warn(
            f"X has values up to {high:g}, but {type(estimator).__name__} was "
            "trained on values in [0, 1]: scale the input the same way, e.g. "
            "with PixelScaler in a Pipeline before the classifier.",
            UserWarning,
            stacklevel=4,
        )


def writeable(X):
    """A writeable array: torch warns about (and may not write to) read-only
    NumPy arrays, e.g. from pandas' copy-on-write frames."""
    return X if X.flags.writeable else X.copy()
