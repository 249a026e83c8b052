"""The report's overall progress bar and its lines, as a callback of
:func:`skfashion.experiments.run_report`."""

import time

from tqdm.auto import tqdm

from skfashion import experiments

from .._common import ClosesBar

__all__ = ["Progress"]

BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt} batches [{elapsed}{postfix}]"


class Progress(experiments.ReportCallback, ClosesBar):
    """The estimate before training, one bar of every batch of the run with
    the time left at the measured speed, and a line per finished model."""

    def __init__(self, config, announce):
        self.config = config
        self.announce = announce
        self.shown = 0.0
        self.ticks = 0

    def on_run_begin(self, plan):
        self.announce(plan, self.config, tqdm.write)
        self.plan = plan
        self.bar = tqdm(
            total=plan.total_batches,
            initial=plan.batches_done_before,
            desc="overall",
            bar_format=BAR,
        )

    def on_fit_begin(self, job):
        self.ticks = 0

    def on_batch_end(self, job):
        self.ticks += 1
        self.bar.update(1)
        now = time.perf_counter()
        if now - self.shown > 1.0:
            left = experiments.format_duration(self.plan.remaining())
            self.bar.set_postfix_str(f"about {left} left", refresh=False)
            self.shown = now

    def on_fit_end(self, job, fit):
        if self.ticks < job.batches:  # trained by a joblib worker
            self.bar.update(job.batches - self.ticks)

    def on_shift_begin(self, name):
        tqdm.write(f"{name}: measuring under shift...")

    def on_model_end(self, name, evaluation):
        tqdm.write(experiments.describe_model(name, evaluation))
