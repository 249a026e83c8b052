"""The one skorch-based classifier base shared by skfashion's networks.

skorch's ``NeuralNetClassifier`` trains the network; this base makes it a
complete scikit-learn classifier: declarative parameter checks, input
validation, label encoding, sample and class weights, ``random_state``, the
loss with Keras' L2 penalty, ``fit``/``partial_fit`` and prediction. Where
the net runs is ``_device.py``'s (``device_``, ``precision_``); its
components and their defaults are ``_components.py``'s; everything that
happens during training lives in skorch callbacks
(:mod:`skfashion.callbacks`).
"""

from types import MappingProxyType

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.history import History
from skorch.utils import to_numpy, to_tensor
from torch import nn

from ..callbacks import l2_penalty
from ..utils import ArrayLoader, batch_weights
from ._components import PREDICT_BATCH_SIZE, ComponentsMixin
from ._device import DeviceMixin
from ._random import own_random_stream
from ._validation import (
    NET_CONSTRAINTS,
    check_n_features,
    fit_label_encoder,
    sample_weights,
    warn_if_unscaled,
    writeable,
)

__all__ = ["PREDICT_BATCH_SIZE", "FashionNetBase"]


class FashionNetBase(DeviceMixin, ComponentsMixin, NeuralNetClassifier):
    """Base class of skfashion's classifiers. Not meant to be used directly.

    A subclass declares its architecture parameters in its ``__init__``,
    their constraints in ``_parameter_constraints``, and which of them its
    module is built with in ``_module_parameters`` (with what the data decide,
    ``_module_data``: ``n_classes``, and ``n_features`` where the module
    takes it).
    """

    _parameter_constraints = NET_CONSTRAINTS

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

    # ------------------------------------------------------------ one batch

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The weighted mean of the per-sample losses, plus Keras' L2 penalty
        (its value here; its gradient is the ``l2`` callback's,
        :class:`skfashion.callbacks.L2Gradient`)."""
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

    # ----------------------------------------------------------- fitted state
    def get_fitted_state(self):
        """What ``fit`` decided besides the weights, as a dict of plain data:
        the classes, the largest input magnitude, the validation split's seed
        and the history. :func:`~skfashion.save_model` and
        :class:`~skfashion.callbacks.ResumeCheckpoint` store it beside the
        weights, :meth:`set_fitted_state` puts it back: a new fitted
        attribute is added here, once."""
        return {
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
            "input_max": getattr(self, "input_max_", None),
            "split_seed": getattr(self, "split_seed_", None),
            "history": self.history.to_list(),
        }

    def set_fitted_state(self, state):
        """Put back what :meth:`get_fitted_state` returned (other keys of
        ``state`` are ignored); return ``self``."""
        self.label_encoder_ = LabelEncoder().fit(np.asarray(state["classes"]))
        if state.get("input_max") is not None:
            self.input_max_ = float(state["input_max"])
        if state.get("split_seed") is not None:
            self.split_seed_ = int(state["split_seed"])
        self.history = History(state.get("history") or [])
        return self

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
        return self._fit(
            X,
            y,
            sample_weight,
            reset=first,
            epochs=self.max_epochs,
            method="fit",
            fit_params=fit_params,
        )

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train for one epoch over ``X`` and ``y``, continuing the training.

        scikit-learn's convention for incremental learners
        (:class:`~sklearn.neural_network.MLPClassifier`,
        :class:`~sklearn.linear_model.SGDClassifier`): one call is one epoch,
        whatever ``max_epochs`` says, while :meth:`fit` trains ``max_epochs``
        epochs. (skorch's own ``partial_fit`` trains ``max_epochs`` more.)
        ``max_epochs`` calls of ``partial_fit`` on the same data train the
        same network as one :meth:`fit`: the same random draws, and a
        learning-rate schedule that spans ``max_epochs`` epochs continues
        across the calls. So a search that prunes epoch by epoch -- Optuna's
        ``OptunaSearchCV(..., enable_pruning=True, max_iter=max_epochs)`` --
        scores what ``fit`` trains.

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
            X,
            y,
            sample_weight,
            reset=first,
            classes=classes,
            epochs=1,
            method="partial_fit",
            fit_params=fit_params,
        )

    def _fit(
        self, X, y, sample_weight, *, reset, epochs, method, fit_params, classes=None
    ):
        self._check_params()
        if reset or not hasattr(self, "device_"):  # a missing CUDA device fails here
            self.resolve_placement()
        X, y = self._validate_training_data(
            X, y, sample_weight, reset=reset, classes=classes
        )
        with own_random_stream(self, reset=reset):
            if reset:
                self.initialize_placed()
            self._train(X, y, epochs, method, fit_params)
        return self

    def _train(self, X, y, epochs, method, fit_params):
        """skorch's ``partial_fit`` for ``epochs`` epochs: the callbacks'
        ``on_train_begin`` are told how many (``epochs=``), so that a
        schedule or a checkpoint knows how far this call goes."""
        self.notify("on_train_begin", X=X, y=y, epochs=epochs)
        try:
            self.fit_loop(X, y, epochs=epochs, _routing_method=method, **fit_params)
        except KeyboardInterrupt:  # skorch's way for a callback to stop training
            pass
        self.notify("on_train_end", X=X, y=y)

    @property
    def classes_(self):
        """The class labels seen in ``fit``, in sorted order."""
        return self.label_encoder_.classes_

    def predict_proba(self, X):
        """Class probabilities: the softmax of the network's logits.

        With label smoothing (``label_smoothing`` of
        :class:`FastFashionCNN`, ``criterion__label_smoothing`` of the
        others), the softmax is mapped back through the smoothing, so that
        the probabilities estimate the classes' and not the smoothed
        targets' (see :ref:`calibration`); ``predict_nonlinearity`` set to a
        callable replaces it, as in skorch.

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
