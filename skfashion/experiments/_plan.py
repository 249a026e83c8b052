"""How long a report will take: timed on the first batches, then watched.

Before training, each model trains a few batches on this machine; from those
timings and the number of batches of the whole run comes the first estimate.
While training, the overall progress bar counts batches and its estimate of
the time left follows the measured speed of each model.
"""

import time
from dataclasses import dataclass, field

from ._timing import format_duration

__all__ = ["Job", "ReportPlan"]


@dataclass
class Job:
    """One fit of a report: a model, a seed, and what it costs.

    The seconds per training batch, for the set-up of a fit and per
    predicted image are timed on this machine before the run
    (:func:`time_batches`); ``done_epochs`` and ``finished`` say what an
    interrupted run of the same settings already did. A fit with
    ``held_out`` classes trains without them (``ReportConfig.held_out``)."""

    name: str
    seed: int
    epochs: int
    train_batches: int
    valid_batches: int
    n_valid: int
    n_test: int
    train_batch_seconds: float
    setup_seconds: float
    sample_seconds: float
    shift_images: int = 0  # predicted by the "Under shift" step after it
    done_epochs: int = 0  # finished before an interruption (--resume)
    finished: bool = False  # the whole fit was kept before (--resume)
    held_out: tuple = ()  # classes this fit never learns

    @property
    def epoch_batches(self):
        return self.train_batches + self.valid_batches

    @property
    def batches(self):
        """The batches still to train and validate."""
        return (self.epochs - self.done_epochs) * self.epoch_batches

    @property
    def estimate(self):
        if self.finished:
            return 0.0
        per_epoch = (
            self.train_batches * self.train_batch_seconds
            + self.n_valid * self.sample_seconds
        )
        return (
            self.setup_seconds
            + (self.epochs - self.done_epochs) * per_epoch
            + (self.n_test + self.shift_images) * self.sample_seconds
        )


@dataclass
class ReportPlan:
    """Every fit of a report (its :class:`Job`), what they will cost, and
    how fast they actually go.

    :func:`run_report` makes it before training and gives it to each
    callback's ``on_run_begin``; ``tick`` is called after every batch of
    the fit under way, and ``remaining`` says the time left at the speed
    measured so far. ``timer`` tells the time (an injected clock in tests).

    Examples
    --------
    >>> from skfashion.experiments import Job, ReportPlan
    >>> job = Job("mlp", 0, epochs=2, train_batches=10, valid_batches=0,
    ...           n_valid=0, n_test=0, train_batch_seconds=1.0,
    ...           setup_seconds=0.0, sample_seconds=0.0)
    >>> now = [0.0]
    >>> plan = ReportPlan([job], timer=lambda: now[0])
    >>> plan.estimate, plan.total_batches
    (20.0, 20)
    >>> plan.start(0)
    >>> for _ in range(10):
    ...     now[0] += 2.0  # twice as slow as timed
    ...     plan.tick()
    >>> plan.remaining()
    20.0
    """

    jobs: list
    timer: object = time.perf_counter
    current: int = 0
    done_batches: int = 0
    started: float = None
    speed: dict = field(default_factory=dict)  # model -> measured / estimated

    def __post_init__(self):
        if self.started is None:
            self.started = self.timer()

    @property
    def total_batches(self):
        """Every batch of the run, the ones done before a resume included."""
        return sum(job.epochs * job.epoch_batches for job in self.jobs)

    @property
    def batches_done_before(self):
        """The batches an interrupted run finished (``--resume``)."""
        return self.total_batches - sum(job.batches for job in self.jobs)

    @property
    def estimate(self):
        """Seconds the run will take (what is left of it, on --resume)."""
        return sum(job.estimate for job in self.jobs)

    def describe(self):
        """The estimate in a sentence, in total and per model.

        Examples
        --------
        >>> from skfashion.experiments import Job, ReportPlan
        >>> job = Job("mlp", 0, epochs=2, train_batches=60, valid_batches=0,
        ...           n_valid=0, n_test=0, train_batch_seconds=1.0,
        ...           setup_seconds=0.0, sample_seconds=0.0)
        >>> print(ReportPlan([job]).describe())  # doctest: +NORMALIZE_WHITESPACE
        Expected duration: about 2 min (mlp 2 min), timed on the first batches
        of each model on this machine.
        """
        seconds = {}
        for job in self.jobs:
            seconds[job.name] = seconds.get(job.name, 0.0) + job.estimate
        per_model = ", ".join(f"{m} {format_duration(s)}" for m, s in seconds.items())
        return (
            f"Expected duration: about {format_duration(self.estimate)} "
            f"({per_model}), timed on the first batches of each model on this "
            "machine."
        )

    def start(self, index):
        """The fit ``jobs[index]`` begins."""
        self.current = index
        self.done_batches = 0
        self.started = self.timer()

    def tick(self):
        """One more batch of the current fit is done."""
        self.done_batches += 1
        job = self.jobs[self.current]
        if self.done_batches >= 5:
            elapsed = self.timer() - self.started
            expected = job.estimate * self.done_batches / max(job.batches, 1)
            self.speed[job.name] = elapsed / max(expected, 1e-9)

    def remaining(self):
        """Seconds left: the current job at its measured speed, the others
        at their timed estimate (corrected by their model's measured speed)."""
        job = self.jobs[self.current]
        left = job.estimate * (1 - self.done_batches / max(job.batches, 1))
        seconds = left * self.speed.get(job.name, 1.0)
        for other in self.jobs[self.current + 1 :]:
            seconds += other.estimate * self.speed.get(other.name, 1.0)
        return seconds
