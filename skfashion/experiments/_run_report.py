"""``run_report``: the report's protocol from Python, resumable, silent,
with progress and interruption as callbacks."""

import time
from collections import Counter

from skorch.callbacks import Callback

from ..evaluation import evaluate_under_shift
from ..utils import describe_machine
from . import _protocol as protocol
from ._checkpoints import ReportCheckpoints
from ._report import Report

__all__ = ["ReportInterrupted", "run_report"]


class ReportInterrupted(KeyboardInterrupt):
    """The run stopped early (``should_stop`` said so, or Ctrl-C).

    A ``KeyboardInterrupt``, so that an interrupted run stops a program as
    Ctrl-C does unless it is caught. ``report`` holds what finished: the
    models whose every fit was done and evaluated (``report.complete`` is
    False); a run given ``checkpoints`` keeps every finished fit there, and
    the last epoch of the fit under way, for the next run to resume.
    """

    def __init__(self, report):
        super().__init__("the report was interrupted")
        self.report = report


class _Forward(Callback):
    """A skorch callback of one fit: each batch goes to the report's
    callbacks, and ``should_stop`` ends the fit at the next batch (skorch
    ends ``fit`` quietly on ``KeyboardInterrupt``)."""

    def __init__(self, job=None, plan=None, callbacks=(), should_stop=None):
        self.job = job
        self.plan = plan
        self.callbacks = callbacks
        self.should_stop = should_stop

    def on_batch_end(self, net, **kwargs):
        if self.plan is None:
            return
        self.plan.tick()
        for callback in self.callbacks:
            callback.on_batch_end(self.job)
        if self.should_stop():
            raise KeyboardInterrupt

    def __getstate__(self):  # a saved model keeps no progress objects
        return {**self.__dict__, "plan": None, "callbacks": (), "should_stop": None}


class _NoCheckpoints:
    """What a run without checkpoints keeps: nothing."""

    folder = None

    def finished_numbers(self, name, seed, held_out=()):
        return None

    def epochs_done(self, name, seed, held_out=()):
        return 0

    def finished_fit(self, name, seed, held_out=()):
        return None

    def job_folder(self, name, seed, held_out=()):
        return None

    def keep_fit(self, fit):
        pass

    def open(self):
        pass

    def tidy(self):
        pass


def _fit_in_worker(job, data, config, folder):
    """One fit, in a joblib worker: silent, checkpointed, no callbacks."""
    return protocol.train(job, data, config, checkpoint_dir=folder)


def _fits(plan, data, config, store, callbacks, should_stop, verbose):
    """Each fit of the plan, in the plan's order: taken from the
    checkpoints, trained here (progress per batch) or, with ``n_jobs``,
    trained by joblib's workers."""
    jobs = list(enumerate(plan.jobs))
    kept = {i: protocol.reuse(job, store) for i, job in jobs if job.finished}
    if config.n_jobs is None:
        for i, job in jobs:
            plan.start(i)
            for callback in callbacks:
                callback.on_fit_begin(job)
            fit = kept.get(i) or _fit_here(
                job, data, config, store, plan, callbacks, should_stop, verbose
            )
            yield job, fit
        return
    from joblib import Parallel, delayed

    todo = [(i, job) for i, job in jobs if kept.get(i) is None]
    results = Parallel(n_jobs=config.n_jobs, return_as="generator")(
        delayed(_fit_in_worker)(
            job, data, config, store.job_folder(job.name, job.seed, job.held_out)
        )
        for _, job in todo
    )
    for i, job in jobs:
        for callback in callbacks:
            callback.on_fit_begin(job)
        fit = kept.get(i)
        if fit is None:
            fit = next(results)  # in the order of todo, as the plan's
            store.keep_fit(fit)
        if should_stop():
            raise KeyboardInterrupt
        yield job, fit


def _fit_here(job, data, config, store, plan, callbacks, should_stop, verbose):
    """One fit in this process, each batch told to the callbacks; kept."""
    fit = protocol.train(
        job,
        data,
        config,
        callbacks=[("report_progress", _Forward(job, plan, callbacks, should_stop))],
        checkpoint_dir=store.job_folder(job.name, job.seed, job.held_out),
        verbose=verbose,
        should_stop=should_stop,
    )
    store.keep_fit(fit)
    return fit


def _evaluate_model(name, fits, data, config, callbacks, held_out_fits=()):
    """One model's numbers, and its first fit under shift (with, if the run
    has ``held_out`` splits, how its detectors flag classes never learned)."""
    evaluation = protocol.evaluate(fits, data)
    for callback in callbacks:
        callback.on_shift_begin(name)
    first = fits[0]
    X_valid, y_valid = data.valid
    shift = evaluate_under_shift(
        first.pipe,
        data.X_test,
        data.y_test,
        X_valid,
        y_valid,
        proba=first.proba,
        **protocol.shift_sizes(config),
    )
    evaluation["shift"] = shift.numbers
    if held_out_fits:
        evaluation["shift"]["held_out_classes"] = protocol.held_out_numbers(
            held_out_fits, data
        )
    return evaluation, shift


def run_report(
    config,
    *,
    checkpoints=None,
    callbacks=(),
    should_stop=None,
    verbose=0,
    timer=time.perf_counter,
):
    """Run the report: train every model and seed, evaluate, compare.

    The protocol of the 2020 report, as ``skfashion report`` runs it: load
    Fashion-MNIST (the first 5,000 training images validate), time each
    model on a few batches (the :class:`ReportPlan`), train every fit,
    score the test set once, summarize each model over its seeds (accuracy
    with its 95 % interval, calibration, recall, confused pairs), measure
    its first fit under shift
    (:func:`~skfashion.evaluation.evaluate_under_shift`; with
    ``config.held_out``, a fit per split without those classes and how each
    novelty detector flags them), and compare the models (McNemar's test).
    Nothing is printed and nothing is written but the checkpoints: write the
    result with :meth:`Report.write`.

    Parameters
    ----------
    config : ReportConfig
        What to run.
    checkpoints : path-like, default=None
        A folder where every finished fit is kept, and the last epoch of the
        fit under way: a run with the same settings and folder (an
        interrupted one, from Python or from ``skfashion report --resume``,
        whose folder is ``OUT.checkpoints``) trains only what is missing.
        The folder stays when the run ends: delete it with
        :meth:`Report.remove_checkpoints`. By default nothing is kept.
    callbacks : sequence of ReportCallback, default=()
        Told of the run's progress.
    should_stop : callable, default=None
        Called after every batch and fit with no argument: when it returns
        True the run stops and raises :class:`ReportInterrupted`.
    verbose : int, default=0
        The estimators' ``verbose``: 1 prints each fit's epoch table.
    timer : callable, default=time.perf_counter
        The clock of the plan and of the run's duration.

    Returns
    -------
    report : Report
        The fits, their numbers and the comparisons.

    Raises
    ------
    ReportInterrupted
        When ``should_stop`` returned True or the run got a
        ``KeyboardInterrupt``; its ``report`` holds the finished models.

    See Also
    --------
    ReportConfig : The settings.
    skfashion.experiments.run_tuning : The tuning's protocol.

    Examples
    --------
    >>> from skfashion.experiments import ReportConfig, run_report
    >>> report = run_report(ReportConfig(models="mlp", quick=True))  # doctest: +SKIP
    >>> report.summary()  # doctest: +SKIP
    >>> report.write("report")  # doctest: +SKIP
    """
    should_stop = should_stop or (lambda: False)
    callbacks = tuple(callbacks)
    started = timer()
    data = protocol.load(config)
    if checkpoints is None:
        store = _NoCheckpoints()
    else:
        store = ReportCheckpoints(checkpoints, config.settings())
    plan = protocol.plan(config, data, store, timer)
    for callback in callbacks:
        callback.on_run_begin(plan)
    report = Report(config, plan, data, store=None if checkpoints is None else store)
    store.open()
    try:
        _run(report, store, callbacks, should_stop, verbose)
    except KeyboardInterrupt as exc:
        raise ReportInterrupted(report) from exc
    finally:
        store.tidy()
    report.time = {"estimated_seconds": round(plan.estimate, 1)}
    report.time["actual_seconds"] = round(timer() - started, 1)
    report.complete = True
    for callback in callbacks:
        callback.on_run_end(report)
    return report


def _run(report, store, callbacks, should_stop, verbose):
    config, data, plan = report.config, report.data, report.plan
    left = Counter(job.name for job in plan.jobs)  # each model's fits to come
    for job, fit in _fits(plan, data, config, store, callbacks, should_stop, verbose):
        for callback in callbacks:
            callback.on_fit_end(job, fit)
        kind = report.held_out_fits if job.held_out else report.fits
        kind.setdefault(job.name, []).append(fit)
        left[job.name] -= 1
        if not left[job.name]:  # the model is done
            fits, without = report.fits[job.name], report.held_out_fits.get(job.name)
            evaluation, shift = _evaluate_model(
                job.name, fits, data, config, callbacks, without
            )
            report.evaluations[job.name] = evaluation
            report.shifts[job.name] = shift
            for callback in callbacks:
                callback.on_model_end(job.name, evaluation)
    report.comparisons = protocol.compare(report.fits, config.models, data)
    first = report.fits[config.models[0]][0]
    report.environment = describe_machine(first.pipe[-1])
