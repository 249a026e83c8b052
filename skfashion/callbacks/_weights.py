"""Callbacks that set the weights themselves during training: lookahead
averaging and the patch-whitening layer's statistics."""

import torch
from skorch.callbacks import Callback

from ..utils import first_images
from ._cycle import epochs_into_cycle, training_steps

__all__ = ["Lookahead", "PatchWhitening"]


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

    Examples
    --------
    FastFashionCNN trains with it; any classifier can:

    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 4).astype(np.float32), np.arange(60) % 2
    >>> from skfashion.callbacks import Lookahead
    >>> net = FashionMLP(hidden_units=(8,), max_epochs=2,
    ...                  callbacks=[Lookahead(every=3)], random_state=0).fit(X, y)
    >>> len(net.history_)
    2
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
        # the history has this epoch's row already
        done = epochs_into_cycle(net, len(net.history) - 1)
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

    Examples
    --------
    FastFashionCNN's network whitens its patches with it:

    >>> from skfashion import FastFashionCNN
    >>> from skfashion.callbacks import PatchWhitening
    >>> callback = FastFashionCNN().get_params()["callbacks__whitening"]
    >>> isinstance(callback, PatchWhitening), callback.n_images
    (True, 5000)
    """

    def __init__(self, n_images=5000):
        self.n_images = n_images

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if len(net.history) or not getattr(net.module_, "needs_whitening", False):
            return
        train, _ = net.get_split_datasets(X, y)
        n = min(self.n_images, len(train))
        net.module_.fit_whitening(first_images(train, n))
