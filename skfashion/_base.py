"""The one skorch-based classifier base shared by FashionMLP and FashionCNN.

skorch's ``NeuralNetClassifier`` trains the network; this base makes it a
complete scikit-learn classifier: input validation, label encoding,
``random_state``, ``n_features_in_``, device and precision selection, Keras'
L2 penalty, and fast in-memory batching.
"""

import contextlib
import functools
import hashlib
import json
import math
import numbers
import os
import platform
import warnings
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog, ProgressBar
from skorch.history import History
from torch import nn

from ._training import ArrayLoader, BatchAccuracy

__all__ = ["FashionNetBase", "bf16_supported", "resolve_device", "resolve_precision"]

_PRECISIONS = ("auto", "float32", "bfloat16")
_PREDICT_BATCH_SIZE = 256  # inference has no gradient: bigger batches are faster


@functools.cache
def _cpuinfo():
    """The kernel's ``/proc/cpuinfo``, or "" where there is none."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def _cpu_has_native_bf16():
    """Whether this CPU computes in bfloat16 natively (AMX or AVX512-BF16).

    Read from the kernel's CPU flags; on systems without ``/proc/cpuinfo``
    the answer is no, and "auto" precision stays float32.
    """
    flags = _cpuinfo()
    return "amx_bf16" in flags or "avx512_bf16" in flags


def cpu_name():
    """The CPU's model name, for reports and benchmark records."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def bf16_supported(device):
    """Whether bfloat16 mixed precision is fast on ``device``.

    True for CUDA GPUs that support bfloat16 (Ampere and newer) and for CPUs
    with AMX or AVX512-BF16 instructions, where PyTorch's ``autocast`` runs
    matrix products natively in bfloat16.

    Examples
    --------
    >>> from skfashion._base import bf16_supported
    >>> bf16_supported("cpu") in (True, False)
    True
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_has_native_bf16()
    return False


def resolve_device(device):
    """``"auto"`` becomes ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_precision(precision, device):
    """``"auto"`` becomes ``"bfloat16"`` where :func:`bf16_supported`."""
    if precision not in _PRECISIONS:
        raise ValueError(f"precision must be one of {_PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        return "bfloat16" if bf16_supported(device) else "float32"
    return precision


def _on_device(method):
    """Run ``method`` with ``self.device`` resolved (``"auto"`` -> a real device).

    skorch reads ``self.device`` wherever it moves tensors; the constructor
    parameter must keep the user's value, so it is swapped for the resolved
    device only while skorch code runs.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._using_device():
            return method(self, *args, **kwargs)

    return wrapper


class FashionNetBase(NeuralNetClassifier):
    """Base class of skfashion's classifiers. Not meant to be used directly.

    Subclasses set the default ``module`` and implement ``_module_params``
    (the module's constructor arguments from the estimator's parameters). An
    ``image_shape`` attribute makes ``fit`` check the number of features.
    """

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
        self.random_state = random_state
        self.precision = precision
        self.checkpoint_dir = checkpoint_dir
        for name in ("history_", "initialized_", "virtual_params_"):
            vars(self).pop(name, None)

    # ------------------------------------------------------------------ skorch
    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("train_acc", BatchAccuracy(name="train_acc", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("valid_acc", BatchAccuracy(name="valid_acc")),
            ("print_log", PrintLog()),
        ]
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

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
        params = {**self._module_params(), **self.get_params_for("module")}
        self.module_ = self.initialized_instance(self.module, params)
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
        if not training and "batch_size" not in self.get_params_for("iterator_valid"):
            # a larger batch for validation and prediction, unless asked otherwise
            batch_size = max(self.batch_size, _PREDICT_BATCH_SIZE)
            return self.iterator_valid(
                dataset,
                batch_size=batch_size,
                **self.get_params_for("iterator_valid"),
            )
        if training and "shuffle" not in self.get_params_for("iterator_train"):
            return self.iterator_train(
                dataset,
                batch_size=self.batch_size,
                shuffle=True,
                **self.get_params_for("iterator_train"),
            )
        return super().get_iterator(dataset, training=training)

    def get_split_datasets(self, X, y=None, **fit_params):
        if self.train_split is not None:  # skorch's own mechanism, if given
            return super().get_split_datasets(X, y, **fit_params)
        valid = self._validation_mask(y)
        if valid is None:
            return self.get_dataset(X, y), None
        return (
            self.get_dataset(X[~valid], y[~valid]),
            self.get_dataset(X[valid], y[valid]),
        )

    @_on_device
    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if self.l2:
            # Keras' kernel_regularizer=l2(l2): l2 * sum(w**2) over the dense
            # kernels (not biases, BatchNorm or convolutions)
            kernels = [
                m.weight for m in self.module_.modules() if isinstance(m, nn.Linear)
            ]
            loss = loss + self.l2 * sum(w.square().sum() for w in kernels)
        return loss

    def infer(self, x, **fit_params):
        device = torch.device(self.device)
        bf16 = resolve_precision(self.precision, device) == "bfloat16"
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = super().infer(x, **fit_params)
        return out.float()

    @_on_device
    def initialize(self):
        return super().initialize()

    def forward_iter(self, X, training=False, device="cpu"):
        with self._using_device():
            yield from super().forward_iter(X, training=training, device=device)

    @_on_device
    def save_params(self, *args, **kwargs):
        return super().save_params(*args, **kwargs)

    @_on_device
    def load_params(self, *args, **kwargs):
        return super().load_params(*args, **kwargs)

    # ------------------------------------------------------------ scikit-learn
    def _check_n_features(self, n_features):
        """Image networks need ``height * width`` features (``image_shape``)."""
        image_shape = getattr(self, "image_shape", None)
        if image_shape is None:
            return
        n_pixels = math.prod(image_shape)
        if n_features != n_pixels:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} with "
                f"image_shape={tuple(image_shape)} expects {n_pixels} "
                "(one per pixel)."
            )

    def _check_params(self):
        """Check skfashion's own parameters (skorch checks its own)."""
        if not (isinstance(self.l2, numbers.Real) and self.l2 >= 0):
            raise ValueError(f"l2 must be a non-negative number, got {self.l2!r}.")
        if self.batch_size != -1 and not (
            isinstance(self.batch_size, numbers.Integral) and self.batch_size >= 1
        ):
            raise ValueError(
                f"batch_size must be a positive integer, got {self.batch_size!r}."
            )
        if not (isinstance(self.max_epochs, numbers.Integral) and self.max_epochs >= 0):
            raise ValueError(
                f"max_epochs must be a non-negative integer, got {self.max_epochs!r}."
            )
        resolve_precision(self.precision, "cpu")
        split = self.validation_split
        if isinstance(split, numbers.Real) and not isinstance(split, bool):
            if not 0 <= split < 1:
                raise ValueError(
                    f"validation_split must be in [0, 1) when a fraction, got {split}."
                )

    def _module_image_shape(self):
        """``image_shape`` for the module; None means one row of all features."""
        if self.image_shape is None:
            return (1, self.n_features_in_)
        return tuple(self.image_shape)

    def _validate_X(self, X, reset):
        X = validate_data(self, X, reset=reset, dtype=np.float32)
        self._check_n_features(X.shape[1])
        return X

    def _prepare_fit(self, X, y, classes=None, reset=True):
        """Validate X and y, fit the label encoder; return float32 X, int64 y."""
        self._check_params()
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float32)
        check_classification_targets(y)
        self._check_n_features(X.shape[1])
        if reset or not hasattr(self, "label_encoder_"):
            classes = classes if classes is not None else self.classes
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    "the data, but the data contains only one class: "
                    f"{encoder.classes_.tolist()[0]!r}."
                )
            self.label_encoder_ = encoder
        unknown = np.setdiff1d(y, self.label_encoder_.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not in classes "
                f"{self.label_encoder_.classes_.tolist()}."
            )
        y = self.label_encoder_.transform(y).astype(np.int64)
        self.device_ = resolve_device(self.device)
        self.precision_ = resolve_precision(self.precision, self.device_)
        return X, y

    def _validation_mask(self, y):
        """Boolean mask of the validation samples, or None for no validation."""
        n = len(y)
        split = self.validation_split
        if split is None or split is False:
            return None
        if isinstance(split, numbers.Real):
            n_valid = int(np.floor(split * n))
            if n_valid < 1 or n - n_valid < 1:
                return None
            seed = self._split_seed_  # drawn in fit from random_state
            index = np.arange(n)
            try:  # stratified where every class can be represented
                _, valid = train_test_split(
                    index, test_size=n_valid, stratify=y, random_state=seed
                )
            except ValueError:
                _, valid = train_test_split(index, test_size=n_valid, random_state=seed)
            mask = np.zeros(n, dtype=bool)
            mask[valid] = True
            return mask
        mask = np.zeros(n, dtype=bool)
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

    @contextlib.contextmanager
    def _using_device(self):
        param = self.__dict__.get("device", "cpu")
        resolved = resolve_device(param)
        if hasattr(self, "device_") and param == "auto":
            resolved = self.device_  # where it was trained (or loaded to)
        self.__dict__["device"] = resolved
        try:
            yield
        finally:
            self.__dict__["device"] = param

    @contextlib.contextmanager
    def _seeded(self, seed=None):
        """Seed torch from ``random_state`` without touching the global state.

        The validation split's seed is drawn first, so that a resumed fit
        splits the data as the interrupted one did.
        """
        if seed is None:
            seed = self._draw_seed()
        device = torch.device(resolve_device(self.device))
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(seed)
            self._split_seed_ = int(torch.randint(2**31 - 1, ()).item())
            yield

    def _draw_seed(self):
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # ------------------------------------------------------------ checkpoints
    def _checkpoint_file(self, X, y):
        """This fit's checkpoint: one file per parameters and data, so that
        parallel fits (a grid search's candidates and folds) never share one."""
        if self.checkpoint_dir is None:
            return None
        skip = ("verbose", "checkpoint_dir", "callbacks", "warm_start")
        params = sorted(
            (k, repr(v))
            for k, v in self.get_params(deep=False).items()
            if not k.startswith(skip)
        )
        digest = hashlib.sha256(repr(params).encode())
        digest.update(repr((X.shape, str(X.dtype))).encode())
        digest.update(np.ascontiguousarray(X[:: max(1, len(X) // 64)]).tobytes())
        digest.update(np.ascontiguousarray(y).tobytes())
        name = f"{type(self).__name__}-{digest.hexdigest()[:16]}.pt"
        return Path(self.checkpoint_dir) / name

    def _load_checkpoint(self, path):
        if path is None or not path.is_file():
            return None
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # truncated or corrupt: start over
            warnings.warn(
                f"{path}: unreadable checkpoint ({exc}); training from scratch.",
                UserWarning,
                stacklevel=3,
            )
            return None

    def _restore_checkpoint(self, state):
        """Put the weights, optimizer, history and random state back."""
        self.module_.load_state_dict(state["module"])
        self.optimizer_.load_state_dict(state["optimizer"])
        self.history_ = History(json.loads(state["history"]))
        torch.set_rng_state(state["rng"])
        return len(self.history_)

    def notify(self, method_name, **cb_kwargs):
        super().notify(method_name, **cb_kwargs)
        if method_name == "on_epoch_end":  # after every callback has recorded
            self._save_checkpoint()

    def _save_checkpoint(self):
        path = getattr(self, "_checkpoint_path_", None)
        if path is None:
            return
        state = {
            "seed": self._fit_seed_,
            "module": self.module_.state_dict(),
            "optimizer": self.optimizer_.state_dict(),
            "history": json.dumps(self.history_.to_list(), default=float),
            "rng": torch.get_rng_state(),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)  # a kill mid-write leaves the previous epoch's

    def _train(self, X, y, epochs, **fit_params):
        """skorch's partial_fit after initialization, for ``epochs`` epochs;
        the one training path of ``fit`` and ``partial_fit``."""
        self.notify("on_train_begin", X=X, y=y)
        completed = True
        try:
            self.fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:  # stop after the current batch, keep the model
            completed = False
        self.notify("on_train_end", X=X, y=y)
        return completed

    def fit(self, X, y, **fit_params):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, any numeric dtype; cast to float32.
        y : array-like of shape (n_samples,)
            Class labels of any type (ints, strings, ...).
        **fit_params : dict
            Passed to the module's ``forward`` (skorch's convention).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = self._prepare_fit(X, y, reset=True)
        path = self._checkpoint_file(X, y)
        state = self._load_checkpoint(path)
        self._fit_seed_ = state["seed"] if state is not None else self._draw_seed()
        with self._seeded(self._fit_seed_), self._using_device():
            if not self.warm_start or not self.initialized_:
                self.initialize()
            done = self._restore_checkpoint(state) if state is not None else 0
            self._checkpoint_path_ = path
            try:
                completed = self._train(
                    X, y, max(self.max_epochs - done, 0), **fit_params
                )
            finally:
                self._checkpoint_path_ = None
        if completed and path is not None:
            path.unlink(missing_ok=True)  # finished: nothing to resume
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initializing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes; needed on the first call if ``y`` lacks some.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        first = not self.initialized_
        X, y = self._prepare_fit(X, y, classes=classes, reset=first)
        with self._seeded(), self._using_device():
            if first:
                self.initialize()
            self._train(X, y, self.max_epochs, **fit_params)
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
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), dtype float32
            Probabilities in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return NeuralNetClassifier.predict_proba(self, X)

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
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def __getstate__(self):
        with self._using_device():  # skorch pickles the device tensors live on
            state = super().__getstate__()
        state["_device_param"] = self.device
        return state

    def __setstate__(self, state):
        param = state.pop("_device_param", state["device"])
        super().__setstate__(state)  # maps CUDA tensors to the CPU if needed
        if param == "auto":  # else keep skorch's fallback to the CPU
            self.device_ = self.device
            self.device = param

    def __sklearn_is_fitted__(self):
        return hasattr(self, "label_encoder_") and super().__sklearn_is_fitted__()

    def _module_params(self):
        raise NotImplementedError


# Parameter documentation shared by the subclasses' docstrings.
_COMMON_PARAMETERS = """\
    l2 : float, default=1e-4
        Keras-style L2 penalty: ``l2 * sum(w ** 2)`` over the kernels of the
        dense layers is added to the loss (not biases, BatchNorm or
        convolutions). 0 disables it.
    lr : float, default=1e-4
        Learning rate of the optimizer.
    max_epochs : int, default=10
        Number of passes over the training data.
    batch_size : int, default=32
        Training mini-batch size (prediction uses at least 256).
    optimizer : torch optimizer class, default=torch.optim.Adam
        Its arguments are set with ``optimizer__<name>``. Adam and AdamW get
        Keras' epsilon, 1e-7, unless ``optimizer__eps`` is given.
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        The module returns logits; ``predict_proba`` applies a softmax.
    validation_split : float, None, slice or array-like, default=0.1
        The validation data held out of ``X`` in ``fit``, scored after every
        epoch into ``history_``: a fraction (a stratified random sample
        seeded by ``random_state``), ``None`` for no validation, or the
        indices, slice or boolean mask of the validation rows of ``X``
        (``slice(0, 5000)`` reproduces the original report's protocol).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the validation
        split. The same value gives bit-identical results on the CPU.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Where to train; "auto" picks CUDA when available.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        "bfloat16" trains and predicts under ``torch.autocast`` (mixed
        precision: weights stay float32). "auto" picks it where the hardware
        computes bfloat16 natively (CUDA GPUs with bfloat16 support, CPUs with
        AMX or AVX512-BF16) and float32 elsewhere.
    checkpoint_dir : str, path-like or None, default=None
        Save a checkpoint (weights, optimizer, history, random state) after
        every epoch into this folder, and resume from it: a fit that is
        killed after epoch k and started again with the same parameters and
        data continues from epoch k+1 and ends with the same weights as an
        uninterrupted fit. Each fit's file is named by its parameters and
        data, so the fits of a grid search never share one; it is deleted
        when the fit completes.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the default ones, e.g. ``skorch.callbacks.EarlyStopping``,
        ``LRScheduler`` or ``Checkpoint``.
    warm_start : bool, default=False
        Continue training from the current weights on ``fit``.
    verbose : int, default=0
        1 prints skorch's per-epoch table and a progress bar.
    **kwargs
        Other arguments of :class:`skorch.NeuralNetClassifier`, including
        prefixed ones such as ``optimizer__weight_decay``,
        ``iterator_train__shuffle`` or ``callbacks__print_log__sink``.
"""

_COMMON_ATTRIBUTES = """\
    classes_ : ndarray of shape (n_classes,)
        The class labels, as given to ``fit``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen in ``fit``, when ``X`` had string column names.
    module_ : torch.nn.Module
        The trained network.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``train_acc``, ``valid_loss``, ``valid_acc``
        and ``dur`` (seconds), e.g. ``history_[:, "valid_acc"]``.
    device_ : str
        The device used for training.
    precision_ : str
        The precision used for training: "float32" or "bfloat16".
"""
