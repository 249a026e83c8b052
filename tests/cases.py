"""Every public classifier, tiny: the cases the contract tests run over.

Built from skfashion's one registry of estimators, so that a new estimator
is tested as soon as it is registered (and ``test_registry_is_complete``
fails until it has tiny settings here).
"""

import functools

import numpy as np
from sklearn.pipeline import make_pipeline

from skfashion import PixelScaler
from skfashion.neural_network import CLASSIFIERS

N_CLASSES = 3
SIDE = 6  # 6x6 "images"

# small and fast, but each still learns the blobs below
TINY = {
    "mlp": {"hidden_units": (16,)},
    "cnn": {
        "image_shape": (SIDE, SIDE),
        "filters": (4, 8),
        "kernel_size": 3,
        "dense_units": (8,),
    },
    "fast": {
        "image_shape": (SIDE, SIDE),
        "widths": (4, 8),
        # a shift by one of 6 rows moves the blobs' bands of 2 rows away
        "crop_padding": 0,
        # SGD's rate for a mean loss over a logit scale of 1/9 (not Adam's);
        # 4-channel BatchNorm shifts at 64x that die: 8x
        "lr": 0.4,
        "norm_bias_lr": 8.0,
        "batch_size": 8,
    },
}
TRAINING = {"lr": 1e-2, "max_epochs": 3, "batch_size": 16, "random_state": 0}

# scikit-learn's estimator checks (test_common.py) give tabular data with any
# number of features: image_shape=None makes each sample a row of pixels, so
# that they reach the convolutional networks, and no augmentation (flips,
# crops) scrambles the rows. Enough epochs to learn the checks' easy data.
CHECKS_TRAINING = {"lr": 1e-2, "max_epochs": 15, "batch_size": 16, "random_state": 0}
CHECKS = {
    "mlp": {"hidden_units": (16,)},
    "cnn": {
        "image_shape": None,
        "filters": (4, 4),
        "kernel_size": 3,
        "dense_units": (16,),
        "conv_activation": "relu",
    },
    "fast": {
        "image_shape": None,
        "widths": (4, 8),
        "flip": False,
        "tta": False,  # no mirror images of rows either
        "crop_padding": 0,
        "max_epochs": 6,
        "lr": 0.4,
        "norm_bias_lr": 8.0,
    },
}

NAMES = list(CLASSIFIERS)
# (classifier, inside a Pipeline after PixelScaler?)
CASES = [(name, pipe) for name in NAMES for pipe in (False, True)]
CASE_IDS = [f"{name}-pipeline" if pipe else name for name, pipe in CASES]


def make(name, pipeline=False, **params):
    """A tiny classifier of the registry, alone or after a PixelScaler."""
    clf = CLASSIFIERS[name](**{**TRAINING, **TINY[name], **params})
    return make_pipeline(PixelScaler(), clf) if pipeline else clf


def final(model):
    """The classifier of a model (the last step of a pipeline)."""
    return model[-1] if hasattr(model, "steps") else model


def step_name(model):
    """The routing prefix of the classifier in a pipeline, e.g. 'fashionmlp'."""
    return model.steps[-1][0]


def blobs(n_per_class=40, seed=0, pixels=False):
    """``N_CLASSES`` well-separated classes of SIDE x SIDE images: class k is
    bright in its own band of rows. Values in [0, 1], or 0-255 uint8."""
    rng = np.random.RandomState(seed)
    y = np.repeat(np.arange(N_CLASSES), n_per_class)
    X = rng.uniform(0, 0.3, size=(len(y), SIDE * SIDE)).astype(np.float32)
    band = SIDE * SIDE // N_CLASSES
    for k in range(N_CLASSES):
        X[y == k, k * band : (k + 1) * band] += 0.7
    if pixels:
        X = (X * 255).round().astype(np.uint8)
    return X, y


def data_for(pipeline, **kwargs):
    """Raw pixels for a pipeline (PixelScaler scales them), [0, 1] otherwise."""
    return blobs(pixels=pipeline, **kwargs)


#: every registered classifier's tiny maker, by short name
MAKERS = {name: functools.partial(make, name) for name in NAMES}


def tiny_mlp(**kw):
    return make("mlp", **kw)


def tiny_cnn(**kw):
    return make("cnn", **kw)
