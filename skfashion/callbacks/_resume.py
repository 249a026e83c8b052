"""Resumable fits: the whole state of a fit, saved after every epoch."""

import hashlib
import json
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PrintLog
from skorch.callbacks import ProgressBar as _SkorchProgressBar

from ..utils import atomic_write
from ._memory import ReuseFreedMemory
from ._threads import AdaptiveThreads

__all__ = [
    "ResumeCheckpoint",
    "callback_state",
    "checkpoint_path",
    "load_callback_state",
    "saved_epochs",
]

# display only, or about this process rather than the training: not saved
_NOT_RESUMED = (
    PrintLog,
    _SkorchProgressBar,
    EpochTimer,
    AdaptiveThreads,
    ReuseFreedMemory,
)


def _plain(value):
    """``value`` as data ``torch.load(weights_only=True)`` reads back, or
    raise TypeError."""
    if isinstance(value, np.generic):  # before float: np.float64 is one
        return value.item()
    if value is None or isinstance(value, bool | int | float | str | torch.Tensor):
        return value
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def callback_state(callback):
    """The training state of a callback: its fitted attributes (``name_``)
    that are plain data, and the ``state_dict()`` of those that have one
    (LR schedulers)."""
    state = {}
    for name, value in vars(callback).items():
        if name.startswith("_") or not name.endswith("_"):
            continue
        if hasattr(value, "state_dict") and hasattr(value, "load_state_dict"):
            state[name] = {"state_dict": value.state_dict()}
            continue
        try:
            state[name] = {"value": _plain(value)}
        except TypeError:
            continue  # open files, progress bars: rebuilt by the callback
    return state


def load_callback_state(callback, state):
    """Put back what :func:`callback_state` saved."""
    for name, item in state.items():
        if "state_dict" in item:
            target = getattr(callback, name, None)
            if target is not None:
                target.load_state_dict(item["state_dict"])
        else:
            setattr(callback, name, item["value"])


class ResumeCheckpoint(Callback):
    """Make a fit resumable: save its whole state after every epoch.

    With ``dirname`` set (the estimators set it from their
    ``checkpoint_dir`` parameter), this callback writes, after every epoch,
    the weights, the optimizer, the net's fitted state (history, validation
    split seed, ...), torch's random state and the state of the other
    callbacks (learning rate schedules, early stopping) to one file per fit
    in that folder, atomically. A fit
    that starts from scratch with the same parameters and data finds that
    file, restores everything and trains only the remaining epochs, ending
    with the same weights as an uninterrupted fit. A finished fit -- all its
    epochs, or stopped early by a callback -- deletes its file; an
    interrupted one (Ctrl-C, a kill) keeps it, with the last epoch that every
    callback finished. A stop at the end of an epoch counts as finished when
    a callback asked for it: skorch's ``EarlyStopping`` (its ``misses_``
    reached its ``patience``), or any callback that sets its attribute
    ``stopped_early_`` to True before it stops training.

    The net puts it after every other callback, as skorch does with
    ``PrintLog``, so that it saves what they recorded.

    Parameters
    ----------
    dirname : str, path-like or None, default=None
        The folder of the checkpoint files; None saves nothing.

    Examples
    --------
    The classifiers' ``checkpoint_dir`` parameter sets it; a fit that ends
    leaves no file behind:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 4).astype(np.float32), np.arange(60) % 2
    >>> folder = tempfile.mkdtemp()
    >>> net = FashionMLP(hidden_units=(8,), max_epochs=2, checkpoint_dir=folder,
    ...                  random_state=0).fit(X, y)
    >>> os.listdir(folder)
    []
    """

    def __init__(self, dirname=None):
        self.dirname = dirname

    def on_train_begin(self, net, X=None, y=None, epochs=None, **kwargs):
        epochs = net.max_epochs if epochs is None else epochs
        self.path_ = None
        self.resumed_ = False
        self.target_epochs_ = len(net.history) + epochs
        self.phases_ = ()
        # continuing a fitted net (warm start, partial_fit), or a fit shorter
        # than max_epochs (a first partial_fit): nothing to resume
        if self.dirname is None or len(net.history) or epochs != net.max_epochs:
            return
        self.path_ = checkpoint_path(self.dirname, net, X, y)
        state = self._read(self.path_)
        if state is not None:
            self._restore(net, state)
            self.resumed_ = True

    def on_epoch_begin(self, net, dataset_valid=None, **kwargs):
        self.phases_ = ("train",) if dataset_valid is None else ("train", "valid")

    def on_epoch_end(self, net, **kwargs):
        if self.path_ is not None:
            self._write(net)
        if self.resumed_ and len(net.history) >= self.target_epochs_:
            raise KeyboardInterrupt  # skorch's way to stop: all epochs are done

    def on_train_end(self, net, **kwargs):
        if self.path_ is not None and self._finished(net):
            self.path_.unlink(missing_ok=True)

    def _finished(self, net):
        """The last epoch ran to its end, and was the last of all or a
        callback stopped training early after it; not a Ctrl-C or a kill
        (the last epoch's too: its history row exists from its start)."""
        if not len(net.history):
            return True
        last = net.history[-1]
        ran_to_end = all(f"{phase}_batch_count" in last for phase in self.phases_)
        return ran_to_end and (
            len(net.history) >= self.target_epochs_
            or any(_stopped_early(cb) for _, cb in net.callbacks_)
        )

    @staticmethod
    def _read(path):
        if not path.is_file():
            return None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if "fitted" not in state:
                raise ValueError("written by another version of skfashion")
            return state
        except Exception as exc:  # truncated, corrupt or foreign: start over
            warnings.warn(
                f"{path}: unreadable checkpoint ({exc}); training from scratch.",
                UserWarning,
                stacklevel=2,
            )
            return None

    def _callbacks(self, net):
        for name, callback in net.callbacks_:
            if callback is not self and not isinstance(callback, _NOT_RESUMED):
                yield name, callback

    def _restore(self, net, state):
        net.module_.load_state_dict(state["module"])
        net.optimizer_.load_state_dict(state["optimizer"])
        net.set_fitted_state(json.loads(state["fitted"]))
        torch.set_rng_state(state["rng"])
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state(state["cuda_rng"], device=net.device_)
        for name, callback in self._callbacks(net):
            if name in state["callbacks"]:
                load_callback_state(callback, state["callbacks"][name])

    def _write(self, net):
        cuda = torch.device(net.device_).type == "cuda"
        state = {
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "fitted": json.dumps(net.get_fitted_state(), default=float),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(net.device_) if cuda else None,
            "callbacks": {
                name: callback_state(callback)
                for name, callback in self._callbacks(net)
            },
        }
        path = self.path_
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as tmp:  # a kill leaves the previous epoch's
            torch.save(state, tmp)


def saved_epochs(checkpoint_dir):
    """How many epochs the interrupted fits in ``checkpoint_dir`` have done:
    ``{file name: epochs}``, for saying how much a resumed run has left
    (unreadable files count as 0, as :class:`ResumeCheckpoint` starts them
    over).

    Examples
    --------
    >>> import tempfile
    >>> from skfashion.callbacks import saved_epochs
    >>> saved_epochs(tempfile.mkdtemp())
    {}
    """
    epochs = {}
    for path in sorted(Path(checkpoint_dir).glob("*.pt")):
        state = ResumeCheckpoint._read(path)
        fitted = {} if state is None else json.loads(state["fitted"])
        epochs[path.name] = len(fitted.get("history", []))
    return epochs


def _stopped_early(callback):
    """Whether a callback ended training on purpose: skorch's
    ``EarlyStopping`` when its ``misses_`` reached its ``patience``, or any
    callback that says so in ``stopped_early_``."""
    if isinstance(callback, EarlyStopping):
        return callback.misses_ >= callback.patience
    return getattr(callback, "stopped_early_", False) is True


_NOT_HASHED = ("verbose", "checkpoint_dir", "callbacks", "warm_start")


def checkpoint_path(dirname, net, X, y):
    """The checkpoint file of one fit in ``dirname``: named by the net's
    parameters and the data, so that parallel fits (a search's candidates and
    folds) never share one.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> from skfashion.callbacks import checkpoint_path
    >>> X, y = np.zeros((4, 784), np.float32), np.array([0, 1, 0, 1])
    >>> a = checkpoint_path("ckpt", FashionMLP(), X, y)
    >>> a == checkpoint_path("ckpt", FashionMLP(lr=0.1), X, y), a.suffix
    (False, '.pt')
    """
    params = sorted(
        (k, repr(v))
        for k, v in net.get_params(deep=False).items()
        if not k.startswith(_NOT_HASHED) and not k.startswith("_")  # skorch's own
    )
    digest = hashlib.sha256(repr(params).encode())
    arrays = dict(X) if isinstance(X, Mapping) else {"X": X}
    for key in sorted(arrays):
        a = np.asarray(arrays[key])
        digest.update(repr((key, a.shape, str(a.dtype))).encode())
        digest.update(np.ascontiguousarray(a[:: max(1, len(a) // 64)]).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    name = f"{type(net).__name__}-{digest.hexdigest()[:16]}.pt"
    return Path(dirname) / name
