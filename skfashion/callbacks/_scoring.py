"""Scores and progress of a training: accuracy from the batches' outputs and
a progress bar that knows its batch count."""

import math

from skorch.callbacks import Callback
from skorch.callbacks import ProgressBar as _SkorchProgressBar

from ..utils import batch_weights, n_batches

__all__ = ["BatchAccuracy", "ProgressBar"]


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

    Examples
    --------
    Every classifier records ``train_acc`` and ``valid_acc`` with it:

    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 4).astype(np.float32), np.arange(60) % 2
    >>> net = FashionMLP(hidden_units=(8,), max_epochs=2, random_state=0).fit(X, y)
    >>> [key for key in net.history_[-1] if key.endswith("_acc")]
    ['train_acc', 'valid_acc']
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

    Examples
    --------
    ``verbose=1`` shows it; as a callback of its own:

    >>> from skfashion import FashionMLP
    >>> from skfashion.callbacks import ProgressBar
    >>> net = FashionMLP(callbacks=[("bar", ProgressBar(postfix_keys=["train_loss"]))])
    >>> net.get_params()["callbacks__bar__postfix_keys"]
    ['train_loss']
    """

    # Private override: skorch's batches_per_epoch takes "auto", "count" or a
    # number, and has no public hook that asks the net's loaders.
    def _get_batches_per_epoch_phase(self, net, dataset, training):
        return n_batches(net, dataset, training=training)
