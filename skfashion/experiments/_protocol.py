"""The report's protocol, step by step: load, plan (time each model),
train each fit, evaluate each model, compare them. Its numbers come from
:mod:`skfashion.evaluation`."""

import time
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from sklearn.metrics import accuracy_score

from .._catalog import TITLES
from ..datasets import CLASS_NAMES
from ..evaluation import (
    compare_models,
    held_out_class_detection,
    held_out_classes,
    shift_prediction_count,
    summarize_fits,
    temperature_calibration,
)
from ..neural_network import CLASSIFIERS
from ..utils import n_batches
from ._builder import FashionData
from ._plan import Job, ReportPlan
from ._report_config import run_fits

__all__ = [
    "QUICK_SHIFT",
    "SHIFT",
    "Data",
    "FitResult",
    "compare",
    "evaluate",
    "held_out_numbers",
    "load",
    "plan",
    "reuse",
    "train",
]

# test images per corruption and severity; test images the detectors score
# (in); images of each kind that is not a garment (out)
SHIFT = {"n_per_severity": 500, "n_in": 2000, "n_out": 1000}
QUICK_SHIFT = {"n_per_severity": 20, "n_in": 300, "n_out": 100}


@dataclass
class Data(FashionData):
    """The report's data: the first ``n_valid`` training images validate."""

    n_valid: int

    @property
    def valid(self):
        """The validation images and labels."""
        return self.X[: self.n_valid], self.y[: self.n_valid]

    def without(self, held_out):
        """The images of the classes not in ``held_out``: what a fit that
        never learns them trains, validates and is tested on (itself if
        ``held_out`` is empty)."""
        if not held_out:
            return self
        learned = held_out_classes(self.y, held_out)
        in_test = held_out_classes(self.y_test, held_out)
        return Data(
            self.X[learned],
            self.y[learned],
            self.X_test[in_test],
            self.y_test[in_test],
            int(learned[: self.n_valid].sum()),
        )


@dataclass
class FitResult:
    """One trained pipeline of a report and what it did on the test set.

    Attributes
    ----------
    name : str
        The model's short name (``"mlp"``, ``"cnn"``, ``"fast"``).
    seed : int
        Its random state.
    pipe : Pipeline
        ``PixelScaler`` and the fitted classifier.
    y_pred, proba : ndarray
        Its predictions and probabilities on the test images.
    numbers : dict
        Test and validation accuracy, calibration, epochs and seconds.
    held_out : tuple
        The classes it never learned (``ReportConfig.held_out``): its data,
        test set included, hold none of them.
    """

    name: str
    seed: int
    pipe: object
    y_pred: np.ndarray
    proba: np.ndarray
    numbers: dict
    held_out: tuple = ()


def load(config):
    """The run's images; the first ``n_valid`` training images validate."""
    data = config.builder.load()
    return Data(data.X, data.y, data.X_test, data.y_test, config.n_valid)


def shift_sizes(config):
    """The sizes of the "Under shift" step of this run."""
    return QUICK_SHIFT if config.quick else SHIFT


def plan(config, data, checkpoints, timer=time.perf_counter):
    """Every fit of the run, each timed on a few batches of its model; the
    fits an interrupted run finished cost nothing (and are not timed).

    A model's fits come together: one per seed, then one per split of
    ``config.held_out`` (its first seed, without those classes)."""
    jobs = []
    for name, fits in run_fits(config.random_states, config.held_out).items():
        done = {fit: checkpoints.finished_numbers(name, *fit) for fit in fits}
        if all(numbers is not None for numbers in done.values()):
            timing = (0.0, 0.0, 0.0)
        else:
            X, y = data.X[data.n_valid :], data.y[data.n_valid :]
            timing = config.builder.time(
                name, X, y, validation_split=None, random_state=0
            )
        sizes = {}  # the data and batches of each split, found once
        for seed, held_out in fits:
            if held_out not in sizes:
                fit_data = data.without(held_out)
                sizes[held_out] = fit_data, _batches(name, fit_data)
            job = _job(name, seed, held_out, config, data, *sizes[held_out], timing)
            job.done_epochs = checkpoints.epochs_done(name, seed, held_out)
            job.finished = done[seed, held_out] is not None
            jobs.append(job)
    return ReportPlan(jobs, timer=timer)


def _job(name, seed, held_out, config, data, fit_data, batches, timing):
    train_s, setup_s, sample_s = timing
    train_batches, valid_batches = batches
    n_test = len(fit_data.y_test)
    if held_out:  # the detectors predict its validation and every test image
        after = fit_data.n_valid + len(data.y_test)
    elif seed == config.random_states[name][0]:  # measured under shift
        after = shift_prediction_count(n_test, data.n_valid, **shift_sizes(config))
    else:
        after = 0
    return Job(
        name=name,
        seed=seed,
        held_out=held_out,
        epochs=config.model_epochs[name],
        train_batches=train_batches,
        valid_batches=valid_batches,
        n_valid=fit_data.n_valid,
        n_test=n_test,
        train_batch_seconds=train_s,
        setup_seconds=setup_s,
        sample_seconds=sample_s,
        shift_images=after,
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
    kept = checkpoints.finished_fit(job.name, job.seed, job.held_out)
    if kept is None:
        return None
    pipe, proba, numbers = kept
    y_pred = pipe.classes_[proba.argmax(axis=1)]
    return FitResult(job.name, job.seed, pipe, y_pred, proba, numbers, job.held_out)


def train(
    job, data, config, *, callbacks=(), checkpoint_dir=None, verbose=0, should_stop=None
):
    """Fit one pipeline with the report's protocol and predict the test set
    (``callbacks``: skorch callbacks of this fit only); a job with
    ``held_out`` classes trains, validates and tests without them. Raises
    ``KeyboardInterrupt`` if ``should_stop()`` says so once the fit ends:
    skorch ends ``fit`` quietly on one."""
    data = data.without(job.held_out)
    pipe = config.builder.pipeline(
        job.name,
        max_epochs=job.epochs,
        random_state=job.seed,
        validation_split=slice(0, data.n_valid),
        checkpoint_dir=checkpoint_dir,
        verbose=verbose,
        callbacks=list(callbacks) or None,
    )
    start = time.perf_counter()
    pipe.fit(data.X, data.y)
    train_seconds = time.perf_counter() - start
    if should_stop is not None and should_stop():
        raise KeyboardInterrupt
    return finish(job, pipe, data, train_seconds)


def finish(job, pipe, data, train_seconds):
    """Predict the test set with a fitted pipeline; its numbers."""
    # the saved model keeps no progress objects: its callbacks were display only
    pipe[-1].set_params(callbacks=None).initialize_callbacks()
    start = time.perf_counter()
    proba = pipe.predict_proba(data.X_test)
    predict_seconds = time.perf_counter() - start
    y_pred = pipe.classes_[proba.argmax(axis=1)]
    history = pipe[-1].history_
    X_valid, y_valid = data.valid
    numbers = {
        "random_state": job.seed,
        "test_accuracy": float(accuracy_score(data.y_test, y_pred)),
        **temperature_calibration(
            pipe, proba, X_valid, y_valid, data.X_test, data.y_test
        ),
        "valid_accuracy": float(history[-1, "valid_acc"]),
        "train_accuracy": float(history[-1, "train_acc"]),
        "epochs": len(history),
        "train_seconds": round(train_seconds, 2),
        "predict_seconds": round(predict_seconds, 2),
    }
    return FitResult(job.name, job.seed, pipe, y_pred, proba, numbers, job.held_out)


def held_out_numbers(fits, data, methods=None):
    """How each novelty detector of the fits that never learned some classes
    flags those classes' test images, one split per fit, and the mean.

    Each fit's detectors are fitted on its validation images (of the classes
    it learned) and tell its test images (the same classes) from the test
    images of its held-out classes
    (:func:`~skfashion.evaluation.held_out_class_detection`).

    Parameters
    ----------
    fits : sequence of FitResult
        Fits with ``held_out`` classes, one per split.
    data : Data
        The run's data, every class in it.
    methods : sequence of str, default=None
        The detectors' methods; None: :data:`skfashion.novelty.METHODS`.

    Returns
    -------
    numbers : dict
        ``splits``: per fit, ``held_out`` (the classes), its
        ``random_state``, ``classes`` (their names), ``test_accuracy`` (on
        the learned classes), ``n_in``, ``n_held_out`` and ``detectors``
        (method -> ``auroc``, ``fpr_at_tpr``); ``mean``: method -> the mean
        ``auroc`` and ``fpr_at_tpr`` over the splits.
    """
    splits = []
    for fit in fits:
        learned = data.without(fit.held_out)
        X_held_out = data.X_test[~held_out_classes(data.y_test, fit.held_out)]
        detectors = held_out_class_detection(
            fit.pipe, *learned.valid, learned.X_test, X_held_out, methods=methods
        )
        splits.append(
            {
                "held_out": list(fit.held_out),
                "random_state": fit.seed,
                "classes": [CLASS_NAMES[c] for c in fit.held_out],
                "test_accuracy": fit.numbers["test_accuracy"],
                "n_in": len(learned.y_test),
                "n_held_out": len(X_held_out),
                "detectors": detectors,
            }
        )
    mean = {
        method: {
            key: float(np.mean([s["detectors"][method][key] for s in splits]))
            for key in ("auroc", "fpr_at_tpr")
        }
        for method in splits[0]["detectors"]
    }
    return {"splits": splits, "mean": mean}


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
