"""The classes a model file may name, each with the base it must derive from.

A model file is data: it names classes (the estimator and its pipeline
steps, the network, the optimizer, the loss, the callbacks, the batch
loader) and :func:`skfashion.load_model` builds them. It builds nothing that
is not listed here, and checks each listed class against its base before
calling it, so that a crafted file cannot name ``pathlib.Path``,
``os.system`` or a class merely imported by some module. Files store the
public names below; names written by earlier versions of skfashion are
translated by :data:`LEGACY_NAMES`.
"""

import functools
import importlib
import inspect

__all__ = ["LEGACY_NAMES", "STORABLE", "class_from_name", "stored_name"]


def _names(module, base, names):
    return {f"{module}.{name}": base for name in names}


#: Every class a model file may name -> the class it must derive from.
STORABLE = {
    # the estimators and the steps that may come before them
    **_names(
        "skfashion",
        "skfashion.neural_network.FashionNetBase",
        ["FashionMLP", "FashionCNN", "FastFashionCNN"],
    ),
    **_names(
        "skfashion",
        "sklearn.base.TransformerMixin",
        ["PixelScaler", "ImagePreprocessor"],
    ),
    # their networks
    **_names(
        "skfashion.modules",
        "torch.nn.Module",
        ["MLPModule", "CNNModule", "FastCNNModule"],
    ),
    # what trains them
    **_names(
        "torch.optim",
        "torch.optim.Optimizer",
        [
            "ASGD",
            "Adadelta",
            "Adafactor",
            "Adagrad",
            "Adam",
            "AdamW",
            "Adamax",
            "LBFGS",
            "NAdam",
            "RAdam",
            "RMSprop",
            "Rprop",
            "SGD",
        ],
    ),
    **_names(
        "torch.nn",
        "torch.nn.modules.loss._Loss",
        ["CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"],
    ),
    **_names(
        "skfashion.callbacks",
        "skorch.callbacks.Callback",
        [
            "AdaptiveThreads",
            "BatchAccuracy",
            "ConsistencyTraining",
            "L2Gradient",
            "Lookahead",
            "OneCycle",
            "PatchWhitening",
            "ProgressBar",
            "ResumeCheckpoint",
            "ReuseFreedMemory",
            "RobustAugmentation",
            "TriangularLR",
        ],
    ),
    **_names(
        "skorch.callbacks",
        "skorch.callbacks.Callback",
        [
            "BatchScoring",
            "Checkpoint",
            "EarlyStopping",
            "EpochScoring",
            "EpochTimer",
            "Freezer",
            "GradientNormClipping",
            "Initializer",
            "LRScheduler",
            "LoadInitState",
            "PassthroughScoring",
            "PrintLog",
            "ProgressBar",
            "TrainEndCheckpoint",
            "Unfreezer",
            "WarmRestartLR",
        ],
    ),
    # how batches are made
    "skfashion.utils.ArrayLoader": "skfashion.utils.ArrayLoader",
    "torch.utils.data.DataLoader": "torch.utils.data.DataLoader",
    "skorch.dataset.Dataset": "skorch.dataset.Dataset",
    "skorch.dataset.ValidSplit": "skorch.dataset.ValidSplit",
}

#: The names written by skfashion 0.1.0 (model format 2) -> today's.
LEGACY_NAMES = {
    **{
        name: f"skfashion.{name}"
        for name in (
            "FashionMLP",
            "FashionCNN",
            "FastFashionCNN",
            "PixelScaler",
            "ImagePreprocessor",
        )
    },
    **{
        f"skfashion._modules.{name}": f"skfashion.modules.{name}"
        for name in ("MLPModule", "CNNModule", "FastCNNModule")
    },
    "skfashion._training.ArrayLoader": "skfashion.utils.ArrayLoader",
    **{
        f"skfashion._training.{name}": f"skfashion.callbacks.{name}"
        for name in (
            "AdaptiveThreads",
            "BatchAccuracy",
            "Lookahead",
            "OneCycle",
            "PatchWhitening",
            "ProgressBar",
            "ResumeCheckpoint",
            "TriangularLR",
        )
    },
}


def _resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@functools.cache
def _by_class():
    return {_resolve(name): name for name in STORABLE}


def stored_name(cls):
    """The name a model file stores for ``cls``, or None if it may not."""
    try:
        return _by_class().get(cls)
    except TypeError:  # an unhashable value is no class
        return None


def class_from_name(name):
    """The class a model file names, checked against the table.

    Raises
    ------
    ValueError
        If the name (after translating an old one) is not in
        :data:`STORABLE`, or names something that is not a subclass of its
        listed base. Nothing is called before this check.
    """
    public = LEGACY_NAMES.get(name, name) if isinstance(name, str) else None
    if public not in STORABLE:
        raise ValueError(f"{name!r} is not a class a skfashion model file may name")
    cls = _resolve(public)
    if not inspect.isclass(cls) or not issubclass(cls, _resolve(STORABLE[public])):
        raise ValueError(f"{name!r} is not a class a skfashion model file may name")
    return cls
