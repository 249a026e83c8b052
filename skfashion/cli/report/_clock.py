"""How long the report will take: timed on the first batches, then watched.

Before training, each model trains a few batches on this machine; from those
timings and the number of batches of the whole run comes the first estimate.
While training, the overall progress bar counts batches and its estimate of
the time left follows the measured speed of each model.
"""

import time
from dataclasses import dataclass, field

__all__ = ["Clock", "Job"]


@dataclass
class Job:
    """One fit of the run: a model, a seed, and what it costs."""

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
class Clock:
    """The run's jobs and how fast they actually go."""

    jobs: list
    current: int = 0
    done_batches: int = 0
    started: float = field(default_factory=time.perf_counter)
    speed: dict = field(default_factory=dict)  # model -> measured / estimated

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

    def start(self, index):
        self.current = index
        self.done_batches = 0
        self.started = time.perf_counter()

    def tick(self):
        self.done_batches += 1
        job = self.jobs[self.current]
        if self.done_batches >= 5:
            elapsed = time.perf_counter() - self.started
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
