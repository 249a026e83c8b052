"""The report's experiment, step by step: load, plan (time each model),
train each fit, evaluate each model, compare them. Its numbers come from
:mod:`skfashion.evaluation`; built only from skfashion's public API and
scikit-learn, so it doubles as the reference example of how to use the
package. Imported when a report runs, never for ``--help``."""

import contextlib
import os
import sys
import time
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from sklearn.metrics import accuracy_score
from tqdm.contrib import DummyTqdmFile

from skfashion.evaluation import (
    compare_models,
    summarize_fits,
    temperature_calibration,
)
from skfashion.neural_network import CLASSIFIERS
from skfashion.utils import cpu_name, describe_machine, n_batches, resolve_device

from .._common import FashionData, format_duration
from ._clock import Clock, Job
from ._config import N_VALID, QUICK, TITLES
from ._progress import OverallProgress
from ._shift import shift_images, under_shift

__all__ = [
    "Data",
    "Fit",
    "Interrupted",
    "announce",
    "compare",
    "environment",
    "evaluate",
    "load",
    "one_line",
    "plan",
    "reuse",
    "train",
    "under_shift",
]

LONG_RUN = 30 * 60  # seconds: say what would be faster


class Interrupted(Exception):
    """Training stopped on a signal (skorch ends a fit quietly)."""


@dataclass
class Data(FashionData):
    """The report's data: the first ``n_valid`` training images validate."""

    n_valid: int


@dataclass
class Fit:
    """One trained pipeline and what it did on the test set."""

    name: str
    seed: int
    pipe: object
    y_pred: np.ndarray
    proba: np.ndarray
    numbers: dict


def load(config):
    """The run's images; the first ``n_valid`` training images validate."""
    data = config.run.load()
    n_valid = QUICK["n_valid"] if config.quick else N_VALID
    return Data(data.X, data.y, data.X_test, data.y_test, n_valid)


def plan(config, data, checkpoints):
    """Every fit of the run, each timed on a few batches of its model; the
    fits an interrupted run finished cost nothing (and are not timed)."""
    jobs = []
    for name in config.models:
        done = {s: checkpoints.finished_numbers(name, s) for s in config.seeds[name]}
        if all(numbers is not None for numbers in done.values()):
            timing = (0.0, 0.0, 0.0)
        else:
            X, y = data.X[data.n_valid :], data.y[data.n_valid :]
            timing = config.run.time(name, X, y, validation_split=None, random_state=0)
        batches = _batches(name, data)
        for seed in config.seeds[name]:
            job = _job(name, seed, config, data, checkpoints, batches, timing)
            job.finished = done[seed] is not None
            jobs.append(job)
    return Clock(jobs)


def _job(name, seed, config, data, checkpoints, batches, timing):
    train_batches, valid_batches = batches
    train_s, setup_s, sample_s = timing
    return Job(
        name=name,
        seed=seed,
        epochs=config.epochs[name],
        done_epochs=checkpoints.epochs_done(name, seed),
        train_batches=train_batches,
        valid_batches=valid_batches,
        n_valid=data.n_valid,
        n_test=len(data.y_test),
        train_batch_seconds=train_s,
        setup_seconds=setup_s,
        sample_seconds=sample_s,
        # the first fit of each model is also measured under shift
        shift_images=shift_images(len(data.y_test), data.n_valid, config.quick)
        if seed == config.seeds[name][0]
        else 0,
    )


def _batches(name, data):
    """The training and validation batches of one epoch, as the estimator's
    own iterators make them."""
    net = CLASSIFIERS[name]()
    valid = slice(0, data.n_valid)
    train = slice(data.n_valid, None)
    return tuple(
        n_batches(net, net.get_dataset(data.X[part], data.y[part]), training)
        for part, training in ((train, True), (valid, False))
    )


def reuse(job, checkpoints):
    """The fit an interrupted run finished and kept, or None."""
    kept = checkpoints.finished_fit(job.name, job.seed)
    if kept is None:
        return None
    pipe, proba, numbers = kept
    y_pred = pipe.classes_[proba.argmax(axis=1)]
    return Fit(job.name, job.seed, pipe, y_pred, proba, numbers)


def train(job, data, config, bar, clock, interrupted, checkpoint_dir):
    """Fit one pipeline with the report's protocol and predict the test set."""
    pipe = config.run.pipeline(
        job.name,
        max_epochs=job.epochs,
        random_state=job.seed,
        validation_split=slice(0, data.n_valid),
        checkpoint_dir=checkpoint_dir,
        verbose=1,
        callbacks=[("overall_progress", OverallProgress(bar, clock))],
    )
    start = time.perf_counter()
    # skorch's epoch table goes through tqdm, so it does not break the bars
    with contextlib.redirect_stdout(DummyTqdmFile(sys.stdout)):
        pipe.fit(data.X, data.y)
    train_seconds = time.perf_counter() - start
    if interrupted():  # skorch stops training quietly on Ctrl-C
        raise Interrupted
    # the saved model keeps no terminal objects: its callbacks were display only
    pipe[-1].set_params(callbacks=None).initialize_callbacks()
    start = time.perf_counter()
    proba = pipe.predict_proba(data.X_test)
    predict_seconds = time.perf_counter() - start
    y_pred = pipe.classes_[proba.argmax(axis=1)]
    history = pipe[-1].history_
    valid = slice(0, data.n_valid)
    numbers = {
        "random_state": job.seed,
        "test_accuracy": float(accuracy_score(data.y_test, y_pred)),
        **temperature_calibration(
            pipe, proba, data.X[valid], data.y[valid], data.X_test, data.y_test
        ),
        "valid_accuracy": float(history[-1, "valid_acc"]),
        "train_accuracy": float(history[-1, "train_acc"]),
        "epochs": len(history),
        "train_seconds": round(train_seconds, 2),
        "predict_seconds": round(predict_seconds, 2),
    }
    return Fit(job.name, job.seed, pipe, y_pred, proba, numbers)


def evaluate(fits, data):
    """The numbers of one model's fits: accuracy over the seeds, and the
    first seed's confusion matrix, recall and most confused pairs."""
    return summarize_fits([f.numbers for f in fits], data.y_test, fits[0].y_pred)


def compare(fits, models, data):
    """McNemar's test of every pair of models, on their first seeds."""
    return [
        compare_models(
            a, b, data.y_test, fits[a][0].y_pred, fits[b][0].y_pred, titles=TITLES
        )
        for a, b in combinations(models, 2)
    ]


def environment(estimator):
    """The machine and libraries, as the report's table shows them."""
    return describe_machine(estimator)


def announce(clock, config, write):
    """The expected duration, before training; what helps when it is long."""
    seconds = {
        m: sum(j.estimate for j in clock.jobs if j.name == m) for m in config.models
    }
    per_model = ", ".join(f"{m} {format_duration(s)}" for m, s in seconds.items())
    total = clock.estimate
    write(
        f"Expected duration: about {format_duration(total)} ({per_model}), timed "
        "on the first batches of each model on this machine."
    )
    if total > LONG_RUN and resolve_device(config.device) == "cpu":
        write(
            f"That is long on this CPU ({cpu_name()}, {os.cpu_count()} cores): a GPU "
            "(--device cuda), --models mlp or --quick is faster. Continuing."
        )


def one_line(name, ev):
    """One model's result, as printed when its last fit is done."""
    s = ev["summary"]
    spread = f" ± {100 * s['std']:.2f}" if s["n"] > 1 else ""
    return (
        f"{name}: test accuracy {100 * s['mean']:.2f} %{spread} over {s['n']} "
        f"seed{'s' * (s['n'] != 1)}, validation {100 * ev['valid_accuracy']:.2f} %, "
        f"{ev['train_seconds']:.0f} s per fit"
    )
