"""Training plumbing for the skorch nets: a fast batch loader and a callback.

skorch's defaults index a ``Dataset`` one sample at a time and collate the
samples into batches; for 28x28 images that costs as much as the small
network's forward pass. :class:`ArrayLoader` slices whole tensors instead.
"""

import math

import torch
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

__all__ = ["ArrayLoader", "BatchAccuracy", "OneCycle"]


class ArrayLoader:
    """Iterate over ``(X, y)`` mini-batches by slicing whole tensors.

    A drop-in replacement for :class:`torch.utils.data.DataLoader` as skorch's
    ``iterator_train`` / ``iterator_valid`` when the data are in-memory arrays
    (a :class:`skorch.dataset.Dataset` of arrays or tensors). Any other
    dataset is handed to a ``DataLoader`` with the same arguments.

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
        return len(self._starts())

    def _starts(self):
        """First index of each batch. A last batch of one sample is merged
        into the one before: BatchNorm cannot train on a single sample."""
        n = len(self.X)
        stop = n - n % self.batch_size if self.drop_last else n
        starts = list(range(0, stop, self.batch_size))
        if len(starts) > 1 and stop - starts[-1] == 1:
            starts.pop()
        return starts

    def __iter__(self):
        if self._loader is not None:
            yield from self._loader
            return
        X, y = self.X, self.y
        n = len(X)
        order = torch.randperm(n) if self.shuffle else None
        starts = self._starts()
        ends = [*starts[1:], n - n % self.batch_size if self.drop_last else n]
        for start, end in zip(starts, ends, strict=True):
            index = slice(start, end) if order is None else order[start:end]
            yield X[index], (None if y is None else y[index])


def _as_arrays(dataset):
    """``(X, y)`` tensors of a skorch Dataset of plain arrays, else None."""
    if type(dataset) is not Dataset:
        return None
    X, y = dataset.X, dataset.y
    try:
        X = torch.as_tensor(X)
        y = None if y is None else torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError):
        return None
    return X, y


class BatchAccuracy(Callback):
    """Record the accuracy of the batches' predictions at the end of an epoch.

    Like Keras' reported ``accuracy``, the training accuracy is the running
    accuracy of the training batches (in training mode), so it costs no extra
    pass over the data. The validation accuracy is computed from the
    validation step's outputs.

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
        self.correct_ = 0
        self.count_ = 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training != self.on_train or y_pred is None or batch[1] is None:
            return
        y_true = batch[1].to(y_pred.device)
        # a tensor sum: no device synchronisation per batch
        self.correct_ += (y_pred.argmax(1) == y_true).sum()
        self.count_ += len(y_true)

    def on_epoch_end(self, net, **kwargs):
        if not self.count_:
            return
        score = int(self.correct_) / self.count_
        net.history.record(self.name, score)
        better = (
            score < self.best_score_
            if self.lower_is_better
            else (score > self.best_score_)
        )
        if better:
            self.best_score_ = score
        net.history.record(self.name + "_best", bool(better))


class OneCycle(Callback):
    """One-cycle learning-rate schedule over the whole fit, stepped per batch.

    Like ``skorch.callbacks.LRScheduler(policy=OneCycleLR, ...)``, but the
    number of steps is computed from the training set at the first epoch, so
    it works whatever the data size and validation split. The peak learning
    rate is the net's ``lr``.

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

    def on_train_begin(self, net, **kwargs):
        self.scheduler_ = None

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if self.scheduler_ is not None or dataset_train is None:
            return
        steps = math.ceil(len(dataset_train) / net.batch_size) * net.max_epochs
        self.scheduler_ = torch.optim.lr_scheduler.OneCycleLR(
            net.optimizer_,
            max_lr=net.lr,
            total_steps=max(steps, 1),
            pct_start=self.pct_start,
            div_factor=self.div_factor,
            final_div_factor=self.final_div_factor,
        )

    def on_batch_end(self, net, training=False, **kwargs):
        scheduler = self.scheduler_
        if training and scheduler is not None:
            if scheduler.last_epoch + 1 < scheduler.total_steps:
                scheduler.step()

    def __getstate__(self):  # the schedule is over once training ends
        return {**self.__dict__, "scheduler_": None}
