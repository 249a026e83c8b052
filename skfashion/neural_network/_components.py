"""skorch's components with skfashion's defaults.

What a net is made of and how it is fed: the default callbacks and their
order, the module built from the estimator's declared parameters, a
criterion of per-sample losses, Keras' Adam epsilon and fused Adam, the
in-memory batch loaders and the validation split, and the nonlinearity that
turns the logits into probabilities (a softmax that undoes label smoothing).
"""

import inspect

import numpy as np
import torch
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import multi_indexing

from ..callbacks import (
    AdaptiveThreads,
    BatchAccuracy,
    L2Gradient,
    ProgressBar,
    ResumeCheckpoint,
    ReuseFreedMemory,
)
from ._validation import check_batch_norm, check_monitors, validation_mask

__all__ = ["PREDICT_BATCH_SIZE", "ComponentsMixin", "SmoothedSoftmaxInverse"]

#: skorch's private methods overridden here (a test checks they still exist).
SKORCH_PRIVATE = (
    "_yield_callbacks",
    "_get_params_callbacks",
    "_get_predict_nonlinearity",
)

PREDICT_BATCH_SIZE = 256  # inference has no gradient: bigger batches are faster


class SmoothedSoftmaxInverse:
    """The softmax of the logits, mapped back through label smoothing.

    A network trained with label smoothing ``eps`` over ``K`` classes learns
    the smoothed targets ``q = (1 - eps) * p + eps / K``, so its softmax
    ``q`` is no estimate of the class probabilities ``p``: it never goes
    above ``1 - eps + eps / K``, and temperature scaling cannot fix that
    shape. The inverse ``p = (q - eps / K) / (1 - eps)`` can; values below
    zero (a class given less than its smoothing share) become ``floor`` and
    each row is renormalised. The order of the classes is kept, so the
    predicted labels are the softmax's.

    Parameters
    ----------
    label_smoothing : float
        The criterion's label smoothing, in [0, 1).
    floor : float, default=1e-6
        The smallest probability returned (no class gets exactly 0).
    """

    def __init__(self, label_smoothing, floor=1e-6):
        self.label_smoothing = label_smoothing
        self.floor = floor

    def __call__(self, logits):
        proba = torch.softmax(logits, dim=-1)
        eps, k = self.label_smoothing, proba.shape[-1]
        proba = ((proba - eps / k) / (1 - eps)).clamp_min(self.floor)
        return proba / proba.sum(dim=-1, keepdim=True)

    def __repr__(self):
        return f"{type(self).__name__}(label_smoothing={self.label_smoothing!r})"


class ComponentsMixin:
    """skorch's components with skfashion's defaults; see the module."""

    #: What the data decide that the module is built with.
    _module_data = ("n_classes",)

    #: The subclass's parameters that its module is built with.
    _module_parameters = ()

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("l2", L2Gradient()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("train_acc", BatchAccuracy(name="train_acc", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("valid_acc", BatchAccuracy(name="valid_acc")),
            ("threads", AdaptiveThreads()),
            ("malloc", ReuseFreedMemory()),
            ("print_log", PrintLog()),
            ("resume", ResumeCheckpoint(dirname=self.checkpoint_dir)),
        ]
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    # Private override: skorch has no public way to order callbacks (it puts
    # PrintLog last in this same method).
    def _yield_callbacks(self):
        # the checkpoint saves what every other callback recorded: last
        items = list(super()._yield_callbacks())
        yield from (i for i in items if not isinstance(i[1], ResumeCheckpoint))
        yield from (i for i in items if isinstance(i[1], ResumeCheckpoint))

    # Private override: skorch has no public hook for what get_params reports
    # of the callbacks.
    def _get_params_callbacks(self, deep=True):
        # skorch reports the *initialized* callbacks after fit, which carry
        # training state; report the declared ones so that get_params() is
        # the same before and after fit, as scikit-learn requires.
        if not deep:
            return {}
        params = {}
        for name, callback, _ in self._yield_callbacks():
            params["callbacks__" + name] = callback
            if callback is not None:
                for key, value in callback.get_params().items():
                    params[f"callbacks__{name}__{key}"] = value
        return params

    def initialize_module(self):
        params = {**self._module_kwargs(), **self.get_params_for("module")}
        self.module_ = self.initialized_instance(self.module, params)
        check_batch_norm(self)
        return self

    def module_shapes(self):
        """The shapes of the network's tensors (``module_.state_dict()``) that
        these parameters and the fitted classes and input build, worked out on
        PyTorch's ``meta`` device: nothing is allocated, so a file's layer
        sizes can be checked against its weights before the network is built.

        Returns
        -------
        shapes : dict of str to tuple of int
            Each tensor's name and shape.
        """
        params = {**self._module_kwargs(), **self.get_params_for("module")}
        with torch.device("meta"):
            module = self.initialized_instance(self.module, params)
        return {name: tuple(t.shape) for name, t in module.state_dict().items()}

    def _module_kwargs(self):
        """What the module is built with: what the data decide
        (``_module_data``) and the estimator's architecture parameters
        (``_module_parameters``), lists as tuples."""
        data = {"n_features": self.n_features_in_, "n_classes": len(self.classes_)}
        kwargs = {name: data[name] for name in self._module_data}
        for name in self._module_parameters:
            value = getattr(self, name)
            kwargs[name] = tuple(value) if isinstance(value, list) else value
        if "image_shape" in kwargs and kwargs["image_shape"] is None:
            kwargs["image_shape"] = (1, self.n_features_in_)  # one row of pixels
        return kwargs

    def _criterion_params(self):
        """The criterion's defaults: per-sample losses, averaged (weighted)
        in ``get_loss``."""
        return {"reduction": "none"}

    def _criterion_kwargs(self):
        """``_criterion_params`` the criterion accepts, then the user's."""
        criterion = self.criterion
        cls = criterion if inspect.isclass(criterion) else type(criterion)
        accepted = inspect.signature(cls).parameters
        defaults = {k: v for k, v in self._criterion_params().items() if k in accepted}
        return {**defaults, **self.get_params_for("criterion")}

    def initialize_criterion(self):
        self.criterion_ = self.initialized_instance(
            self.criterion, self._criterion_kwargs()
        )
        return self

    # Private override: skorch's public hook is the ``predict_nonlinearity``
    # parameter, whose "auto" it resolves here from the criterion's type only.
    def _get_predict_nonlinearity(self):
        """skorch's nonlinearity; with ``predict_nonlinearity="auto"`` and a
        cross-entropy with label smoothing, the softmax followed by the
        smoothing's inverse (:class:`SmoothedSoftmaxInverse`)."""
        nonlin = super()._get_predict_nonlinearity()
        smoothing = getattr(self.criterion_, "label_smoothing", 0.0)
        if (
            isinstance(self.predict_nonlinearity, str)
            and self.predict_nonlinearity == "auto"
            and isinstance(self.criterion_, torch.nn.CrossEntropyLoss)
            and smoothing > 0
        ):
            return SmoothedSoftmaxInverse(smoothing)
        return nonlin

    def get_params_for_optimizer(self, prefix, named_parameters):
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if prefix == "optimizer" and self.optimizer in (
            torch.optim.Adam,
            torch.optim.AdamW,
        ):
            given = self.get_params_for("optimizer")
            if "eps" not in given:
                kwargs["eps"] = 1e-7  # Keras' default; PyTorch's is 1e-8
            if not given.keys() & {"foreach", "fused", "capturable", "differentiable"}:
                # one fused kernel instead of a loop over the parameters: the
                # step costs ~5x less on the CPU (same update up to rounding)
                kwargs["fused"] = True
        return args, kwargs

    def get_iterator(self, dataset, training=False):
        """skorch's data loaders with skfashion's defaults: shuffled training
        batches; validation and prediction batches of at least 256.
        ``batch_size=-1`` is the whole data set, as in skorch."""
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        kwargs.setdefault("batch_size", self._loader_batch_size(training))
        if training:
            kwargs.setdefault("shuffle", True)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = max(len(dataset), 1)
        return getattr(self, prefix)(dataset, **kwargs)

    def _loader_batch_size(self, training):
        """The batch size of training, or of validation and prediction
        (``batch_size``, at least 256); -1 for the whole data set."""
        if training or self.batch_size == -1:
            return self.batch_size
        return max(self.batch_size, PREDICT_BATCH_SIZE)

    def get_split_datasets(self, X, y=None, **fit_params):
        if self.train_split is not None:  # skorch's own mechanism, if given
            train, valid = super().get_split_datasets(X, y, **fit_params)
            if valid is None:
                check_monitors(self, "train_split")
            return train, valid
        valid = validation_mask(self.validation_split, y, self.split_seed_)
        if valid is None:
            check_monitors(self, "validation_split")
            return self.get_dataset(X, y), None
        train, valid = np.flatnonzero(~valid), np.flatnonzero(valid)
        return (
            self.get_dataset(multi_indexing(X, train), y[train]),
            self.get_dataset(multi_indexing(X, valid), y[valid]),
        )
