"""``run_tuning``: a pruned Optuna search of one model within a budget, the
refit of its best parameters and the test, as a :class:`TuningResult`."""

import numbers
import time
import warnings
from dataclasses import dataclass

from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

from ..neural_network import CLASSIFIERS
from ..preprocessing import PixelScaler
from ..tuning import DEFAULT_SPACES, PrunedCV, distributions
from ..utils import n_batches
from ._study import PRUNER, fail_dead_trials, finished, new_study, owned
from ._timing import parse_duration, time_batches
from ._trials import best_trial, trial_score
from ._tuning_result import TuningResult

__all__ = [
    "DEFAULT_TRIALS",
    "check_tuning",
    "check_space",
    "study_settings",
    "REPORT_SECONDS",
    "TuningError",
    "run_tuning",
]

DEFAULT_TRIALS = 20  # when neither a budget nor a number of trials is given
REPORT_SECONDS = 15  # writing the report and plots, kept out of the budget


_SETTINGS = ("model", "epochs", "cv", "seed")


class TuningError(RuntimeError):
    """The tuning could not produce a model (no trial finished an epoch)."""


@dataclass
class Budget:
    """When the search must stop so that the refit and the report still end
    within the budget. The refit trains the best trial's parameters, or
    those of a running trial if it becomes the best: its time is the slower
    of their fold-epochs scaled to the whole training set, with a margin (the
    first timing, of the default parameters, until a trial has one)."""

    seconds: float  # or None: no budget
    cv: int
    epochs: int
    started: float
    refit_seconds: float  # timed before the search, default parameters
    margin: float = 1.25

    def refit_reserve(self, study):
        candidates = [best_trial(study)]
        candidates += study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        per = [
            t.user_attrs["seconds"] / t.user_attrs["fold_epochs"]
            for t in candidates
            if t is not None and t.user_attrs.get("fold_epochs")
        ]
        if not per:
            return self.refit_seconds
        return self.margin * max(per) * self.cv / (self.cv - 1) * self.epochs

    def deadline(self, study):
        if self.seconds is None:
            return float("inf")
        reserve = self.refit_reserve(study) + REPORT_SECONDS
        return self.started + self.seconds - reserve


def _estimate(estimator, X, y, X_test, cv, epochs):
    """Seconds of a complete trial and of the refit, timed on a few batches
    of the default parameters on this machine."""
    per_batch, setup, per_sample = time_batches(
        lambda: make_pipeline(PixelScaler(), clone(estimator).set_params(max_epochs=1)),
        X,
        y,
    )
    batches = n_batches(estimator, estimator.get_dataset(X, y), training=True)
    n, fold = len(y), (cv - 1) / cv
    trial = cv * epochs * (setup + batches * fold * per_batch + n / cv * per_sample)
    n_test = 0 if X_test is None else len(X_test)
    refit = setup + epochs * batches * per_batch + n_test * per_sample
    return trial, refit


def _estimator(estimator):
    """A classifier and its short name, from either."""
    if isinstance(estimator, str):
        if estimator not in CLASSIFIERS:
            raise ValueError(
                f"Unknown model {estimator!r}: choose from {', '.join(CLASSIFIERS)}."
            )
        return estimator, CLASSIFIERS[estimator]()
    names = [n for n, cls in CLASSIFIERS.items() if type(estimator) is cls]
    if not names:
        raise TypeError(
            "run_tuning tunes a skfashion classifier (FashionMLP, FashionCNN, "
            f"FastFashionCNN) or its short name, got {type(estimator).__name__}."
        )
    return names[0], estimator


def check_space(estimator, space):
    """Check that a search space is one ``estimator``'s trials can take.

    Parameters
    ----------
    estimator : classifier
        The estimator to tune.
    space : dict
        ``{parameter: {low, high[, log, step]} or {choices: [...]}}``.

    Raises
    ------
    ValueError
        Naming a parameter the estimator does not have, ``max_epochs`` (the
        epochs of a trial are ``epochs``), or what is wrong with the space.

    Examples
    --------
    >>> from skfashion import FashionMLP
    >>> from skfashion.experiments import check_space
    >>> check_space(FashionMLP(), {"lr": {"low": 1e-4, "high": 1e-2, "log": True}})
    >>> check_space(FashionMLP(), {"learning_rate": {"low": 0.1, "high": 0.2}})
    Traceback (most recent call last):
    ...
    ValueError: the search space names learning_rate, not parameters of FashionMLP
    """
    unknown = sorted(set(space) - set(estimator.get_params()))
    if unknown:
        raise ValueError(
            f"the search space names {', '.join(unknown)}, not parameters of "
            f"{type(estimator).__name__}"
        )
    if "max_epochs" in space:
        raise ValueError("max_epochs is epochs, not part of the search space")
    distributions(space)  # a clear error for a bad space


def check_tuning(estimator, space=None, *, cv=3, trials=None, budget=None, epochs=None):
    """Check the settings of :func:`run_tuning` before a study is opened.

    Each setting is checked as :func:`run_tuning` checks it (the defaults
    filled in the same way), so that a mistake is named before anything is
    created or timed.

    Returns
    -------
    budget : float or None
        The budget in seconds (``"15m"`` and the like parsed).

    Raises
    ------
    TypeError, ValueError
        Naming the setting at fault.

    Examples
    --------
    >>> from skfashion.experiments import check_tuning
    >>> check_tuning("mlp", budget="1m30s")
    90.0
    >>> check_tuning("mlp", cv=1)
    Traceback (most recent call last):
    ...
    ValueError: cv must be at least 2, got 1.
    """
    _, estimator = _estimator(estimator)
    settings = study_settings(estimator, space, epochs=epochs)
    return _check(settings["space"], estimator, cv, trials, budget, settings["epochs"])


def _check(space, estimator, cv, trials, budget, epochs):
    for what, value, low in (
        ("cv", cv, 2),
        ("trials", trials, 1),
        ("epochs", epochs, 1),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{what} must be an int, got {value!r}.")
        if value < low:
            raise ValueError(f"{what} must be at least {low}, got {value}.")
    check_space(estimator, space)
    if isinstance(budget, str):
        return parse_duration(budget)
    if budget is not None and not budget > 0:
        raise ValueError(f"budget must be positive, got {budget!r}")
    return budget


def _stop_when_done(trials, budget, timer):
    """A study callback: stop at the trial budget (every process of the
    study together) or when the search's share of the time budget is spent."""

    def callback(study, trial):
        if trials is not None and len(finished(study)) >= trials:
            study.stop()
        elif timer() >= budget.deadline(study):
            study.stop()

    return callback


def run_tuning(
    estimator,
    space,
    X,
    y,
    *,
    X_test=None,
    y_test=None,
    study=None,
    trials=None,
    budget=None,
    cv=3,
    epochs=None,
    random_state=0,
    quick=False,
    callbacks=(),
    should_stop=None,
    timer=time.time,
    started=None,
):
    """Tune a model's hyper-parameters with a pruned, resumable Optuna search.

    Every trial is cross-validated one epoch at a time
    (:class:`~skfashion.tuning.PrunedCV`: ``cv`` folds, up to ``epochs``
    epochs), and pruned by successive halving over epochs; the search stops
    at ``trials`` finished trials (of every process sharing the study) or
    when the ``budget`` leaves just the time for the refit. The best
    parameters are then refit on all of ``X``, ``y`` (after a
    :class:`~skfashion.PixelScaler`), and the test set, if given, is scored
    once. Nothing is printed and nothing is written but the study: write
    the result with :meth:`TuningResult.write`.

    Parameters
    ----------
    estimator : str or classifier
        A short name (``"mlp"``, ``"cnn"``, ``"fast"``) or an unfitted
        skfashion classifier, whose parameters every trial starts from.
    space : dict or None
        The search space, ``{parameter: {low, high[, log, step]} or
        {choices: [...]}}``; None: the model's default
        (:data:`~skfashion.tuning.DEFAULT_SPACES`).
    X, y : array-like
        Training images (raw pixels) and labels.
    X_test, y_test : array-like, default=None
        The test set, scored once by the refit model.
    study : optuna.Study, default=None
        The study to run trials in (:func:`open_study` opens or resumes a
        shared one); by default a new in-memory study seeded with
        ``random_state``.
    trials : int, default=None
        Finished trials to reach; 20 if neither this nor ``budget`` is given.
    budget : float or str, default=None
        Seconds for the whole run from ``started``, refit included
        (``"15m"`` and the like too).
    cv : int, default=3
        Cross-validation folds.
    epochs : int, default=None
        Epochs of a complete trial and of the refit; by default the
        estimator's ``max_epochs``.
    random_state : int, default=0
        The random state of every trial and of the refit.
    quick : bool, default=False
        Marks the run as a smoke test on a subset (in its report and in the
        settings a study keeps).
    callbacks : sequence of TuningCallback, default=()
        Told of the search's progress.
    should_stop : callable, default=None
        Called after every fold-epoch: when it returns True, the trial
        under way is failed (a resumed study tries it again) and
        ``KeyboardInterrupt`` is raised.
    timer : callable, default=time.time
        The clock of the budget (an injected one in tests).
    started : float, default=None
        When the budget started, on ``timer``'s clock; by default now.

    Returns
    -------
    result : TuningResult

    Raises
    ------
    TuningError
        If no trial finished an epoch (a budget too short).

    Examples
    --------
    >>> from skfashion import fetch_fashion_mnist
    >>> from skfashion.experiments import run_tuning
    >>> X, y = fetch_fashion_mnist(return_X_y=True)  # doctest: +SKIP
    >>> result = run_tuning("mlp", None, X[:1000], y[:1000], trials=4,
    ...                     epochs=2)  # doctest: +SKIP
    >>> result.best_params  # doctest: +SKIP
    """
    started = timer() if started is None else started
    name, estimator, space, epochs, budget, trials = _resolve(
        estimator, space, epochs, cv, trials, budget, random_state
    )
    should_stop = should_stop or (lambda: False)
    study = new_study(seed=random_state) if study is None else study
    trial_s, refit_s = _estimate(estimator, X, y, X_test, cv, epochs)
    settings = dict(zip(_SETTINGS, (name, epochs, cv, random_state), strict=True))
    settings |= {"budget_seconds": budget, "trials": trials, "quick": quick}
    settings |= {"space": space, "n_train": len(y)}
    plan = {**settings, "trial_seconds": trial_s, "refit_seconds": refit_s}
    for callback in callbacks:
        callback.on_search_begin(study, {**plan, "trials_done": len(finished(study))})
    limits = Budget(budget, cv, epochs, started, refit_s)
    _optimize(
        study, estimator, space, X, y, trials, limits, timer, callbacks, should_stop
    )
    search_seconds = timer() - started
    pipe, best, params, refit_seconds, test_accuracy = _refit(
        study, estimator, space, X, y, X_test, y_test, callbacks, should_stop, timer
    )
    summary = _summary(best, params, test_accuracy)
    summary |= {
        "search_seconds": round(search_seconds, 1),
        "refit_seconds": round(refit_seconds, 1),
        "estimated_trial_seconds": round(trial_s, 1),
        "pruner": f"SuccessiveHalvingPruner({PRUNER})",
    }
    return TuningResult(study, pipe, summary, settings, started=started, timer=timer)


def _summary(best, params, test_accuracy):
    return {
        "best_trial": best.number,
        "best_params": params,
        "best_complete": best.value is not None,
        "cv_score": trial_score(best),
        "cv_std": best.user_attrs.get("std_score"),
        "cv_splits": best.user_attrs.get("split_scores"),
        "test_accuracy": test_accuracy,
    }


def study_settings(estimator, space=None, *, epochs=None, cv=3, quick=False):
    """What makes the trials of a study comparable, for :func:`open_study`.

    The model, the epochs of a complete trial, the folds, the search space
    and whether the run is a quick one, with the defaults
    :func:`run_tuning` fills in: a study kept with these refuses a run of
    other settings.

    Examples
    --------
    >>> from skfashion.experiments import study_settings
    >>> settings = study_settings("mlp", epochs=2)
    >>> settings["model"], settings["epochs"], settings["cv"], settings["quick"]
    ('mlp', 2, 3, False)
    """
    name, estimator = _estimator(estimator)
    return {
        "model": name,
        "epochs": estimator.max_epochs if epochs is None else epochs,
        "cv": cv,
        "space": DEFAULT_SPACES[name] if space is None else space,
        "quick": quick,
    }


def _resolve(estimator, space, epochs, cv, trials, budget, random_state):
    """The defaults filled in and checked; the estimator every trial clones."""
    name, estimator = _estimator(estimator)
    settings = study_settings(estimator, space, epochs=epochs)
    space, epochs = settings["space"], settings["epochs"]
    budget = _check(space, estimator, cv, trials, budget, epochs)
    if trials is None and budget is None:
        trials = DEFAULT_TRIALS
    fixed = {"max_epochs": epochs, "validation_split": None}
    estimator = clone(estimator).set_params(**fixed, random_state=random_state)
    return name, estimator, space, epochs, budget, trials


def _refit(study, estimator, space, X, y, X_test, y_test, callbacks, stop, timer):
    """The best trial's parameters fit on all of X, y; the test scored once."""
    fail_dead_trials(study)  # another process of the study may have died
    best = best_trial(study)
    if best is None:
        raise TuningError(
            "no trial finished an epoch within the budget (the refit and the "
            "report need their share of it): give a longer budget, or trials"
        )
    params = distributions(space)[1](best.params)
    for callback in callbacks:
        callback.on_refit_begin(params)
    pipe = make_pipeline(PixelScaler(), clone(estimator).set_params(**params))
    start = timer()
    pipe.fit(X, y)
    if stop():  # skorch ends fit quietly on KeyboardInterrupt
        raise KeyboardInterrupt
    refit_seconds = timer() - start
    test_accuracy = None
    if X_test is not None:
        test_accuracy = float(accuracy_score(y_test, pipe.predict(X_test)))
    return pipe, best, params, refit_seconds, test_accuracy


def _optimize(study, estimator, space, X, y, trials, budget, timer, callbacks, stop):
    if trials is not None and len(finished(study)) >= trials:
        return
    if timer() >= budget.deadline(study):
        return

    def on_step(trial, epoch, fold):
        if stop():  # skorch ended the epoch quietly on a signal: end the trial
            raise KeyboardInterrupt
        for callback in callbacks:
            callback.on_step(study, trial, epoch, fold)

    def on_trial_end(study, trial):
        for callback in callbacks:
            callback.on_trial_end(study, trial)

    objective = PrunedCV(
        estimator,
        space,
        PixelScaler().fit_transform(X),
        y,
        cv=budget.cv,
        # PrunedCV compares its deadline with time.time(): the time left
        deadline=lambda: time.time() + budget.deadline(study) - timer(),
        on_step=on_step,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        study.optimize(
            owned(objective),
            callbacks=[on_trial_end, _stop_when_done(trials, budget, timer)],
            gc_after_trial=True,
        )
