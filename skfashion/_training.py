"""Training plumbing for the skorch nets: a fast batch loader and callbacks.

skorch's defaults index a ``Dataset`` one sample at a time and collate the
samples into batches; for 28x28 images that costs as much as the small
network's forward pass. :class:`ArrayLoader` slices whole tensors instead.
Everything that happens during training lives in skorch callbacks:
accuracy, learning-rate schedules, lookahead weights, the patch-whitening
layer's statistics, an exact progress bar and
:class:`ResumeCheckpoint`, which makes a killed fit resumable.
"""

import hashlib
import json
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PrintLog
from skorch.callbacks import ProgressBar as _SkorchProgressBar
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

from ._threads import AdaptiveThreads

__all__ = [
    "ArrayLoader",
    "BatchAccuracy",
    "Lookahead",
    "OneCycle",
    "PatchWhitening",
    "ProgressBar",
    "ResumeCheckpoint",
    "TriangularLR",
]


class ArrayLoader:
    """Iterate over ``(X, y)`` mini-batches by slicing whole tensors.

    A drop-in replacement for :class:`torch.utils.data.DataLoader` as skorch's
    ``iterator_train`` / ``iterator_valid`` when the data are in-memory arrays
    (a :class:`skorch.dataset.Dataset` of arrays, tensors or a dict of them).
    Any other dataset is handed to a ``DataLoader`` with the same arguments.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch Dataset
        The data to iterate over.
    batch_size : int, default=32
        Samples per batch.
    shuffle : bool, default=False
        Draw a new random order every epoch (from torch's random generator).
    drop_last : bool, default=False
        Drop the last batch if it is smaller than ``batch_size``.
    **kwargs
        Passed to ``DataLoader`` for datasets that are not in-memory arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> from skfashion._training import ArrayLoader
    >>> X, y = np.zeros((6, 2), np.float32), np.arange(6)
    >>> [len(yb) for _, yb in ArrayLoader(Dataset(X, y), batch_size=4)]
    [4, 2]
    """

    def __init__(
        self, dataset, batch_size=32, shuffle=False, drop_last=False, **kwargs
    ):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size!r}.")
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._loader = None
        arrays = _as_arrays(dataset)
        if arrays is None or kwargs:
            self._loader = DataLoader(
                dataset,
                batch_size=self.batch_size,
                shuffle=shuffle,
                drop_last=drop_last,
                **kwargs,
            )
        else:
            self.X, self.y = arrays

    def __len__(self):
        if self._loader is not None:
            return len(self._loader)
        return len(batch_bounds(self._n_samples(), self.batch_size, self.drop_last))

    def _n_samples(self):
        return len(self.y) if self.y is not None else len(_first(self.X))

    def __iter__(self):
        if self._loader is not None:
            yield from self._loader
            return
        n = self._n_samples()
        order = torch.randperm(n) if self.shuffle else None
        for start, end in batch_bounds(n, self.batch_size, self.drop_last):
            index = slice(start, end) if order is None else order[start:end]
            yield _take(self.X, index), (None if self.y is None else self.y[index])


def batch_bounds(n, batch_size, drop_last=False):
    """``(start, end)`` of each of :class:`ArrayLoader`'s batches of ``n``
    samples. A last batch of one sample is merged into the one before:
    BatchNorm cannot train on a single sample."""
    stop = n - n % batch_size if drop_last else n
    starts = list(range(0, stop, batch_size))
    if len(starts) > 1 and stop - starts[-1] == 1:
        starts.pop()
    return list(zip(starts, [*starts[1:], stop], strict=True))


def _first(X):
    return next(iter(X.values())) if isinstance(X, Mapping) else X


def _take(X, index):
    if isinstance(X, Mapping):
        return {k: v[index] for k, v in X.items()}
    return X[index]


def _as_arrays(dataset):
    """``(X, y)`` tensors of a skorch Dataset of plain arrays, else None."""
    if type(dataset) is not Dataset:
        return None
    X, y = dataset.X, dataset.y
    try:
        if isinstance(X, Mapping):
            X = {k: torch.as_tensor(v) for k, v in X.items()}
        else:
            X = torch.as_tensor(X)
        y = None if y is None else torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError):
        return None
    return X, y


def batch_weights(X):
    """The per-sample weights travelling with a batch, or None."""
    return X.get("sample_weight") if isinstance(X, Mapping) else None


class BatchAccuracy(Callback):
    """Record the accuracy of the batches' predictions at the end of an epoch.

    Like Keras' reported ``accuracy``, the training accuracy is the running
    accuracy of the training batches (in training mode), so it costs no extra
    pass over the data. The validation accuracy is computed from the
    validation step's outputs. With sample weights, it is the weighted
    accuracy, as :func:`sklearn.metrics.accuracy_score` computes it.

    Parameters
    ----------
    name : str
        Key in the net's history, e.g. ``"train_acc"``.
    on_train : bool, default=False
        Score the training batches rather than the validation batches.
    lower_is_better : bool, default=False
        Whether a lower score is better (to mark the best epoch).
    """

    def __init__(self, name, on_train=False, lower_is_better=False):
        self.name = name
        self.on_train = on_train
        self.lower_is_better = lower_is_better

    def initialize(self):
        self.best_score_ = -math.inf if not self.lower_is_better else math.inf
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.correct_ = 0.0
        self.count_ = 0.0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training != self.on_train or y_pred is None or batch[1] is None:
            return
        y_true = batch[1].to(y_pred.device)
        hits = (y_pred.argmax(1) == y_true).float()
        weights = batch_weights(batch[0])
        if weights is None:  # tensor sums: no device synchronisation per batch
            self.correct_ += hits.sum()
            self.count_ += len(y_true)
        else:
            weights = weights.to(y_pred.device)
            self.correct_ += (hits * weights).sum()
            self.count_ += weights.sum()

    def on_epoch_end(self, net, **kwargs):
        count = float(self.count_)
        if not count:
            return
        score = float(self.correct_) / count
        net.history.record(self.name, score)
        better = (
            score < self.best_score_
            if self.lower_is_better
            else (score > self.best_score_)
        )
        if better:
            self.best_score_ = score
        net.history.record(self.name + "_best", bool(better))


class ProgressBar(_SkorchProgressBar):
    """skorch's progress bar, with the exact number of batches per epoch.

    skorch estimates the count from ``batch_size``; this asks the net's data
    loaders, so the count is right for a validation batch size that differs
    from the training one, ``batch_size=-1`` and merged last batches.
    """

    # Private override: skorch's batches_per_epoch takes "auto", "count" or a
    # number, and has no public hook that asks the net's loaders.
    def _get_batches_per_epoch_phase(self, net, dataset, training):
        if dataset is None:
            return 0
        return len(net.get_iterator(dataset, training=training))


class _CycleSchedule(Callback):
    """A learning-rate schedule over ``max_epochs``, stepped per batch.

    The number of steps is counted from the net's own training batches, so
    it works whatever the data size, batch size and validation split. The
    cycle spans ``max_epochs`` epochs however they are reached: one ``fit``,
    or ``max_epochs`` one-epoch calls of ``partial_fit``, which continue the
    cycle where the last call left it (also after pickling); a new cycle
    starts every ``max_epochs`` epochs. The schedule's state is saved with a
    :class:`ResumeCheckpoint`, so a resumed fit continues the same cycle.
    Subclasses build the torch scheduler (``_scheduler``).
    """

    def initialize(self):
        self.scheduler_ = None
        self._saved_schedule = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if not net.max_epochs:
            self.scheduler_ = None
            return
        if len(net.history) % net.max_epochs:  # mid-cycle: continue it
            saved = getattr(self, "_saved_schedule", None)
            if self.scheduler_ is None and saved is not None:
                self.scheduler_ = self._rebuild(net, saved)
            if self.scheduler_ is not None:
                return
        steps = training_steps(net, X, y) * net.max_epochs
        self.scheduler_ = self._scheduler(net, steps)

    def _scheduler(self, net, steps):
        raise NotImplementedError

    def _rebuild(self, net, saved):
        """The scheduler of a pickled net, where it stopped; the optimizer's
        learning rates and momenta (restored with it) are kept."""
        keys = ("lr", "betas", "momentum")
        groups = net.optimizer_.param_groups
        kept = [{k: group[k] for k in keys if k in group} for group in groups]
        scheduler = self._scheduler(net, saved["total_steps"])
        scheduler.load_state_dict(saved)
        for group, values in zip(groups, kept, strict=True):
            group.update(values)
        return scheduler

    def on_batch_end(self, net, training=False, **kwargs):
        scheduler = self.scheduler_
        if training and scheduler is not None:
            if scheduler.last_epoch + 1 < scheduler.total_steps:
                scheduler.step()

    def __getstate__(self):
        # the scheduler refers to the optimizer, which skorch pickles apart:
        # keep the schedule's position, rebuilt on the next partial_fit
        state = {**self.__dict__, "scheduler_": None}
        scheduler = self.__dict__.get("scheduler_")
        if scheduler is not None:
            state["_saved_schedule"] = scheduler.state_dict()
        return state


def training_steps(net, X, y):
    """The number of training batches of one epoch of ``net`` on ``X, y``."""
    train, _ = net.get_split_datasets(X, y)
    return len(net.get_iterator(train, training=True))


class OneCycle(_CycleSchedule):
    """One-cycle learning-rate schedule over ``max_epochs``, stepped per batch.

    Like ``skorch.callbacks.LRScheduler(policy=OneCycleLR, ...)``, but the
    number of steps is counted from the net's own training batches, so it
    works whatever the data size, batch size and validation split. The peak
    learning rate is the net's ``lr``. The cycle spans ``max_epochs`` epochs
    however they are reached: one ``fit``, or ``max_epochs`` one-epoch calls
    of ``partial_fit``, which continue the cycle where the last call left it
    (also after pickling); a new cycle starts every ``max_epochs`` epochs.
    The schedule's state is saved with a :class:`ResumeCheckpoint`, so a
    resumed fit continues the same cycle.

    Parameters
    ----------
    pct_start : float, default=0.25
        Fraction of the steps spent increasing the learning rate.
    div_factor : float, default=25.0
        The initial learning rate is ``lr / div_factor``.
    final_div_factor : float, default=1e4
        The final learning rate is the initial one divided by this.
    """

    def __init__(self, pct_start=0.25, div_factor=25.0, final_div_factor=1e4):
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor

    def _scheduler(self, net, steps):
        if float(self.pct_start * steps) == 1.0:
            # torch's warm-up phase would last zero steps and divide by zero
            steps += 1
        return torch.optim.lr_scheduler.OneCycleLR(
            net.optimizer_,
            max_lr=net.lr,
            total_steps=steps,
            pct_start=self.pct_start,
            div_factor=self.div_factor,
            final_div_factor=self.final_div_factor,
        )


class _Triangle:
    """The factor of a triangular schedule at each step (picklable, and
    saved in the scheduler's ``state_dict``)."""

    def __init__(self, total_steps, start, peak):
        self.total_steps = total_steps
        self.start = start
        self.peak = peak

    def __call__(self, step):
        top = max(int(self.peak * self.total_steps), 1)
        if step < top:
            return self.start + (1 - self.start) * step / top
        return max(0.0, (self.total_steps - step) / max(self.total_steps - top, 1))


class TriangularLR(_CycleSchedule):
    """Triangular learning-rate schedule over ``max_epochs``, stepped per batch.

    Each parameter group's learning rate rises linearly from ``start`` times
    its own rate to its rate over the first ``peak`` fraction of the steps,
    then falls linearly to 0 at the last step (the CIFAR-10 speed runs'
    schedule, airbench). Groups keep their ratios: a group with 64 times the
    net's ``lr`` stays at 64 times. The cycle spans ``max_epochs`` epochs as
    :class:`OneCycle`'s does (across ``partial_fit`` calls, pickling and
    resumed fits).

    Parameters
    ----------
    start : float, default=0.2
        The first step's fraction of the peak rate.
    peak : float, default=0.2
        Fraction of the steps spent rising.
    """

    def __init__(self, start=0.2, peak=0.2):
        self.start = start
        self.peak = peak

    def _scheduler(self, net, steps):
        # a new cycle scales each group's initial_lr again (LambdaLR's base)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            net.optimizer_, _Triangle(steps, self.start, self.peak)
        )
        scheduler.total_steps = steps  # as OneCycleLR's; in its state_dict
        return scheduler


class Lookahead(Callback):
    """Pull the weights towards their running average during training.

    Every ``every`` training steps, and after the last step of each epoch,
    each weight (and BatchNorm statistic) moves to ``alpha * average + (1 -
    alpha) * weight`` and the average becomes that value (lookahead as in
    the CIFAR-10 speed runs, airbench). ``alpha = pull * t ** power`` grows
    with the fraction ``t`` of the ``max_epochs`` cycle done: no pull at
    first, a strong average at the end. After each epoch the weights *are*
    the average, so this callback keeps no state between epochs: a resumed
    fit, or ``max_epochs`` calls of ``partial_fit``, trains the same weights
    as one fit.

    Parameters
    ----------
    every : int, default=5
        Steps between pulls.
    pull : float, default=0.95 ** 5
        ``alpha`` at the end of the cycle.
    power : float, default=3
        How late in the cycle the pull grows.
    """

    def __init__(self, every=5, pull=0.95**5, power=3.0):
        self.every = every
        self.pull = pull
        self.power = power

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.steps_per_epoch_ = training_steps(net, X, y)

    def on_epoch_begin(self, net, **kwargs):
        self.average_ = None
        if not net.max_epochs:
            return
        done = (len(net.history) - 1) % net.max_epochs  # this epoch's is new
        self.total_ = self.steps_per_epoch_ * net.max_epochs
        self.step_ = done * self.steps_per_epoch_
        self.epoch_end_ = self.step_ + self.steps_per_epoch_
        self.average_ = [t.detach().clone() for t in self._tensors(net)]

    def on_batch_end(self, net, training=False, **kwargs):
        if not training or self.average_ is None:
            return
        self.step_ += 1
        if self.step_ % self.every == 0 or self.step_ == self.epoch_end_:
            alpha = self.pull * min(self.step_ / self.total_, 1.0) ** self.power
            with torch.no_grad():
                for average, tensor in zip(
                    self.average_, self._tensors(net), strict=True
                ):
                    tensor.lerp_(average, alpha)
                    average.copy_(tensor)

    def on_epoch_end(self, net, **kwargs):
        self.average_ = None  # the weights are the average now

    @staticmethod
    def _tensors(net):
        return [t for t in net.module_.state_dict().values() if t.is_floating_point()]


class PatchWhitening(Callback):
    """Set a module's whitening layer from the training images.

    At the start of a fit from scratch (not a continued one), calls the
    module's ``fit_whitening`` with the first ``n_images`` training images
    (the validation images left out), if its ``needs_whitening`` is true.

    Parameters
    ----------
    n_images : int, default=5000
        How many training images the patch statistics come from.
    """

    def __init__(self, n_images=5000):
        self.n_images = n_images

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if len(net.history) or not getattr(net.module_, "needs_whitening", False):
            return
        train, _ = net.get_split_datasets(X, y)
        n = min(self.n_images, len(train))
        arrays = _as_arrays(train)
        if arrays is not None:
            images = _first(arrays[0])[:n]
        else:  # a Dataset that is not plain arrays
            images = torch.stack(
                [torch.as_tensor(_first(train[i][0])) for i in range(n)]
            )
        net.module_.fit_whitening(images)


# ------------------------------------------------------------------ resume
# display only, or about this process rather than the training: not saved
_NOT_RESUMED = (PrintLog, _SkorchProgressBar, EpochTimer, AdaptiveThreads)


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
        """All epochs ran, or a callback stopped training early at the end of
        an epoch; not a Ctrl-C or a kill."""
        if len(net.history) >= self.target_epochs_ or not len(net.history):
            return True
        last = net.history[-1]
        ran_to_end = all(f"{phase}_batch_count" in last for phase in self.phases_)
        return ran_to_end and any(_stopped_early(cb) for _, cb in net.callbacks_)

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
        net._restore_fitted_state(json.loads(state["fitted"]))
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
            "fitted": json.dumps(net._fitted_state(), default=float),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(net.device_) if cuda else None,
            "callbacks": {
                name: callback_state(callback)
                for name, callback in self._callbacks(net)
            },
        }
        path = self.path_
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        try:
            torch.save(state, tmp)
            os.replace(tmp, path)  # a kill mid-write leaves the previous epoch's
        finally:
            tmp.unlink(missing_ok=True)


def saved_epochs(checkpoint_dir):
    """How many epochs the interrupted fits in ``checkpoint_dir`` have done:
    ``{file name: epochs}``, for saying how much a resumed run has left
    (unreadable files count as 0, as :class:`ResumeCheckpoint` starts them
    over)."""
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
    folds) never share one."""
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
