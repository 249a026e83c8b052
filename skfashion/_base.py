"""The one skorch-based classifier base shared by skfashion's networks.

skorch's ``NeuralNetClassifier`` trains the network; this base makes it a
complete scikit-learn classifier: declarative parameter checks, input
validation, label encoding, sample and class weights, ``random_state``, the
device and precision resolved once into ``device_`` and ``precision_``,
Keras' L2 penalty and fast in-memory batching. Everything that happens
during training lives in skorch callbacks (``_training.py``).
"""

import contextlib
import inspect
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import multi_indexing, to_numpy, to_tensor
from torch import nn

from ._hardware import resolve_device, resolve_precision
from ._penalty import L2Gradient, l2_penalty
from ._threads import AdaptiveThreads
from ._training import (
    ArrayLoader,
    BatchAccuracy,
    ProgressBar,
    ResumeCheckpoint,
    batch_weights,
)
from ._validation import (
    NET_CONSTRAINTS,
    check_batch_norm,
    check_monitors,
    check_n_features,
    fit_label_encoder,
    sample_weights,
    validation_mask,
    warn_if_unscaled,
    writeable,
)

__all__ = ["FashionNetBase"]

PREDICT_BATCH_SIZE = 256  # inference has no gradient: bigger batches are faster


class FashionNetBase(NeuralNetClassifier):
    """Base class of skfashion's classifiers. Not meant to be used directly.

    A subclass declares its architecture parameters in its ``__init__``,
    their constraints in ``_parameter_constraints``, and which of them its
    module is built with in ``_module_parameters`` (with what the data decide,
    ``_module_data``: ``n_classes``, and ``n_features`` where the module
    takes it).
    """

    _parameter_constraints = NET_CONSTRAINTS

    #: What the data decide that the module is built with.
    _module_data = ("n_classes",)
    #: The subclass's parameters that its module is built with.
    _module_parameters = ()

    # skorch sets these in ``__init__``; scikit-learn requires that ``__init__``
    # only stores parameters, so they live on the class until ``fit``.
    history_ = None
    initialized_ = False
    virtual_params_ = MappingProxyType({})

    def __init__(
        self,
        module,
        *,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-4,
        max_epochs=10,
        batch_size=32,
        l2=1e-4,
        validation_split=0.1,
        class_weight=None,
        random_state=None,
        device="auto",
        precision="auto",
        checkpoint_dir=None,
        callbacks=None,
        warm_start=False,
        verbose=0,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train", ArrayLoader)
        kwargs.setdefault("iterator_valid", ArrayLoader)
        kwargs.setdefault("train_split", None)
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            callbacks=callbacks,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.l2 = l2
        self.validation_split = validation_split
        self.class_weight = class_weight
        self.random_state = random_state
        self.precision = precision
        self.checkpoint_dir = checkpoint_dir
        for name in ("history_", "initialized_", "virtual_params_"):
            vars(self).pop(name, None)

    # ------------------------------------------------------------- callbacks
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
            ("print_log", PrintLog()),
            ("resume", ResumeCheckpoint()),
        ]
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _yield_callbacks(self):
        # the checkpoint saves what every other callback recorded: last
        items = list(super()._yield_callbacks())
        yield from (i for i in items if not isinstance(i[1], ResumeCheckpoint))
        yield from (i for i in items if isinstance(i[1], ResumeCheckpoint))

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

    # ---------------------------------------------------- skorch's components
    def initialize(self):
        """Resolve the device and precision, then build every component."""
        self.device_ = resolve_device(self.device)
        self.precision_ = resolve_precision(self.precision, self.device_)
        super().initialize()
        check_batch_norm(self)
        return self

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params`` (used by its ``LoadInitState`` and
        ``Checkpoint``), with the tensors mapped to ``device_``: skorch maps
        them to the ``device`` parameter, which may be ``"auto"``."""
        if not self.initialized_:
            self.initialize()
        device = self.device
        self.device = self.device_  # for skorch's map_location, restored below
        try:
            return super().load_params(*args, **kwargs)
        finally:
            self.device = device

    # skorch moves modules and criteria to ``self.device``, the user's
    # parameter, which may be "auto"; they go to the resolved ``device_``.
    def _initialize_module(self, reason=None):
        with self._current_init_context("module"):
            self.initialize_module()
            self._place(self._modules)
        return self

    def _initialize_criterion(self, reason=None):
        with self._current_init_context("criterion"):
            self.initialize_criterion()
            self._place(self._criteria)
        return self

    def _place(self, names):
        for name in names:
            component = getattr(self, name + "_")
            if isinstance(component, nn.Module):
                component = self.torch_compile(component.to(self.device_), name=name)
                setattr(self, name + "_", component)

    def initialize_module(self):
        params = {**self._module_kwargs(), **self.get_params_for("module")}
        self.module_ = self.initialized_instance(self.module, params)
        return self

    def _module_kwargs(self):
        """What the module is built with: what the data decide
        (``_module_data``) and the estimator's architecture parameters
        (``_module_parameters``), lists as tuples."""
        data = {"n_features": self.n_features_in_, "n_classes": len(self.classes_)}
        kwargs = {name: data[name] for name in self._module_data}
        for name in self._module_parameters:
            value = getattr(self, name)
            kwargs[name] = tuple(value) if isinstance(value, list) else value
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
        valid = validation_mask(self.validation_split, y, self._split_seed_)
        if valid is None:
            check_monitors(self, "validation_split")
            return self.get_dataset(X, y), None
        train, valid = np.flatnonzero(~valid), np.flatnonzero(valid)
        return (
            self.get_dataset(multi_indexing(X, train), y[train]),
            self.get_dataset(multi_indexing(X, valid), y[valid]),
        )

    # ------------------------------------------------------------ one batch
    def infer(self, x, **fit_params):
        if isinstance(x, Mapping):  # the samples and their weights
            x = x["X"]
        x = to_tensor(x, device=self.device_)
        bf16 = self.precision_ == "bfloat16"
        device_type = torch.device(self.device_).type
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            out = self.module_(x, **fit_params)
        return out.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The weighted mean of the per-sample losses, plus Keras' L2 penalty
        (its value here; its gradient is the ``l2`` callback's, see
        ``_penalty.py``)."""
        y_true = to_tensor(y_true, device=self.device_)
        loss = self.criterion_(y_pred, y_true)
        if loss.ndim:  # per-sample losses: their mean, weighted
            weights = batch_weights(X)
            if weights is None:
                loss = loss.mean()
            else:
                loss = (loss * weights.to(loss.device)).sum() / len(loss)
        if self.l2:
            loss = loss + l2_penalty(self.module_, self.l2)
        return loss

    # ------------------------------------------------------------ validation
    def _check_params(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        resolve_device(self.device)  # a CUDA device on a machine without one

    def _validate_training_data(self, X, y, sample_weight, *, reset, classes=None):
        """Checked float32 X (with the weights, if any, in skorch's dict of
        inputs) and int64 class indices."""
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float32)
        check_classification_targets(y)
        check_n_features(self, X.shape[1])
        if reset or not hasattr(self, "label_encoder_"):
            self.label_encoder_ = fit_label_encoder(
                self, y, classes if classes is not None else self.classes
            )
            self.input_max_ = float(max(X.max(), -X.min()))  # no |X| copy
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not in classes "
                f"{self.classes_.tolist()}."
            )
        reduction = self._criterion_kwargs().get("reduction")
        weights = sample_weights(X, y, sample_weight, self.class_weight, reduction)
        y = self.label_encoder_.transform(y).astype(np.int64)
        X = writeable(X)
        return (X if weights is None else {"X": X, "sample_weight": weights}), y

    @contextlib.contextmanager
    def _seeded(self):
        """Seed torch from ``random_state`` without touching the global state.

        The validation split's seed is drawn first, from the same generator.
        """
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        device = torch.device(resolve_device(self.device))
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(seed)
            self._split_seed_ = int(torch.randint(2**31 - 1, ()).item())
            yield

    # --------------------------------------------------------- scikit-learn
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, any numeric dtype; cast to float32.
        y : array-like of shape (n_samples,)
            Class labels of any type (ints, strings, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss, in training and validation (and of
            its hits in the recorded accuracies). Multiplied by
            ``class_weight``'s weights, then scaled to a mean of 1.
        **fit_params : dict
            Passed to the module's ``forward`` (skorch's convention).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        first = not self.warm_start or not self.initialized_
        return self._fit(X, y, sample_weight, reset=first, fit_params=fit_params)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initializing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes; needed on the first call if ``y`` lacks some.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss, as in :meth:`fit`.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        first = not self.initialized_
        return self._fit(
            X, y, sample_weight, reset=first, classes=classes, fit_params=fit_params
        )

    def _fit(self, X, y, sample_weight, *, reset, classes=None, fit_params):
        self._check_params()
        X, y = self._validate_training_data(
            X, y, sample_weight, reset=reset, classes=classes
        )
        with self._seeded():
            if reset:
                self.initialize()
            NeuralNet.partial_fit(self, X, y, **fit_params)  # skorch's loop
        return self

    @property
    def classes_(self):
        """The class labels seen in ``fit``, in sorted order."""
        return self.label_encoder_.classes_

    def predict_proba(self, X):
        """Class probabilities (softmax of the network's logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, on the scale the network was trained on.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), dtype float32
            Probabilities in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        check_n_features(self, X.shape[1])
        warn_if_unscaled(self, X)
        nonlin = self._get_predict_nonlinearity()
        # device="cpu" also for a caching scoring callback's forward_iter
        out = self.forward_iter(writeable(X), training=False, device="cpu")
        return np.concatenate([to_numpy(nonlin(yp)) for yp in out])

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels as given to ``fit`` (strings stay strings).
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "label_encoder_") and super().__sklearn_is_fitted__()

    # skorch maps pickled tensors to ``state["device"]``: give it the device
    # they were on, and keep the user's parameter.
    def __getstate__(self):
        state = super().__getstate__()
        state["device_param_"] = self.device
        state["device"] = getattr(self, "device_", "cpu")  # where tensors are
        return state

    def __setstate__(self, state):
        param = state.pop("device_param_", state["device"])
        super().__setstate__(state)  # maps CUDA tensors to the CPU if needed
        if hasattr(self, "device_"):
            self.device_ = str(self.device)  # where the tensors are now
        self.device = param
