"""Learning-rate schedules over ``max_epochs``, stepped per batch."""

import torch
from skorch.callbacks import Callback

from ._cycle import epochs_into_cycle, training_steps

__all__ = ["OneCycle", "TriangularLR"]


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
        if epochs_into_cycle(net, len(net.history)):  # mid-cycle: go on
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

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 4).astype(np.float32), np.arange(60) % 2
    >>> from skfashion.callbacks import OneCycle
    >>> net = FashionMLP(hidden_units=(8,), lr=1e-2, max_epochs=2,
    ...                  callbacks=[OneCycle()], random_state=0).fit(X, y)
    >>> net.optimizer_.param_groups[0]["lr"] < 1e-4  # the cycle's end
    True
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

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 4).astype(np.float32), np.arange(60) % 2
    >>> import torch
    >>> from skfashion.callbacks import TriangularLR
    >>> net = FashionMLP(hidden_units=(8,), lr=0.1, max_epochs=2,
    ...                  optimizer=torch.optim.SGD, callbacks=[TriangularLR()],
    ...                  random_state=0).fit(X, y)
    >>> round(net.optimizer_.param_groups[0]["lr"], 4)  # the last of 4 steps
    0.0333
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
