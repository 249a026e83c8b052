"""Tuning with Optuna: search spaces and a cross-validated, pruned objective.

Optuna does the searching (samplers), the stopping (pruners) and the
bookkeeping (storages shared by processes and machines); this module gives it
what it needs to tune a skfashion classifier: a search space per model (or
one read from a JSON/TOML file) and :class:`PrunedCV`, an objective that
trains each fold one epoch at a time with ``partial_fit`` and reports the
mean validation accuracy after every epoch, so that a pruner stops a poor
trial after its first epochs. ``max_epochs`` epochs of ``partial_fit`` train
exactly what ``fit`` trains, so the score of a complete trial is the score of
the model that ``fit`` refits.

Optuna is imported when a function here is called (it is the ``tune``
extra).
"""

import json
import numbers
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import check_cv

__all__ = [
    "DEFAULT_SPACES",
    "PrunedCV",
    "distributions",
    "fold_epochs",
    "read_space",
]

#: The default search space of each registered classifier: what is tuned,
#: in ``read_space``'s form (``low``/``high`` ranges, ``choices`` lists).
#: Not the batch size: it sets the steps per epoch, so larger batches trail
#: after the first epochs whatever they reach in the end, and a pruner that
#: compares trials epoch by epoch would stop them all (benchmarks/
#: bench_tuning.py measured it); the model's own batch size is kept.
DEFAULT_SPACES = {
    "mlp": {
        "lr": {"low": 1e-4, "high": 3e-3, "log": True},
        "hidden_units": {"choices": [[1024, 512, 256], [2048, 1024], [512, 256]]},
        "l2": {"choices": [0.0, 1e-5, 1e-4]},
        "dropout": {"low": 0.0, "high": 0.4},
    },
    "cnn": {
        "lr": {"low": 1e-4, "high": 2e-3, "log": True},
        "filters": {"choices": [[128, 256, 512], [64, 128, 256], [32, 64, 128]]},
        "dense_units": {"choices": [[128, 64], [256, 128]]},
        "dropout": {"low": 0.0, "high": 0.4},
    },
    "fast": {
        "lr": {"low": 0.2, "high": 2.0, "log": True},
        "widths": {"choices": [[32, 64, 128], [48, 96, 192], [64, 128, 256]]},
        "dropout": {"low": 0.0, "high": 0.3},
        "erase_prob": {"low": 0.0, "high": 0.5},
        "label_smoothing": {"low": 0.0, "high": 0.3},
    },
}


def read_space(path):
    """Read a search space from a JSON or TOML file.

    Each entry names an estimator parameter and gives either a range,
    ``{"low": ..., "high": ...}`` (integers if both are integers; ``"log":
    true`` for a log scale, ``"step"`` for a grid), or a list of
    ``"choices"`` (numbers, strings, booleans, or lists such as layer widths).

    Parameters
    ----------
    path : str or path-like
        A ``.json`` or ``.toml`` file.

    Returns
    -------
    space : dict
        The entries, checked by :func:`distributions`.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from skfashion.tuning import read_space
    >>> path = os.path.join(tempfile.mkdtemp(), "space.json")
    >>> with open(path, "w") as f:
    ...     json.dump({"lr": {"low": 1e-4, "high": 1e-2, "log": True}}, f)
    >>> read_space(path)
    {'lr': {'low': 0.0001, 'high': 0.01, 'log': True}}
    """
    path = Path(path)
    text = path.read_text()
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            space = tomllib.loads(text)
        else:
            space = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid search space file ({exc}).") from exc
    distributions(space)  # the errors name the file's entries
    return space


def _label(value):
    """A choice as Optuna stores it: lists become strings such as
    '1024-512-256' (Optuna's storages keep only scalars)."""
    if isinstance(value, list | tuple):
        return "-".join(str(v) for v in value)
    return value


def distributions(space):
    """Optuna distributions of a search space, and the decoder of its choices.

    Parameters
    ----------
    space : dict
        ``{parameter: {"low", "high"[, "log", "step"]} or {"choices": [...]}}``.

    Returns
    -------
    distributions : dict
        ``{parameter: optuna distribution}``.
    decode : callable
        ``decode(params)`` turns a trial's parameters into the estimator's
        (``'1024-512-256'`` back into ``(1024, 512, 256)``).

    Examples
    --------
    >>> from skfashion.tuning import distributions
    >>> dists, decode = distributions({"hidden_units": {"choices": [[64, 32], [128]]}})
    >>> dists["hidden_units"].choices
    ('64-32', '128')
    >>> decode({"hidden_units": "64-32"})
    {'hidden_units': (64, 32)}
    """
    if not isinstance(space, dict) or not space:
        raise ValueError("A search space is a non-empty mapping of parameters.")
    dists, choices = {}, {}
    for name, spec in space.items():
        if not isinstance(spec, dict):
            raise ValueError(
                f"Search space entry {name!r} must be a mapping, got {spec!r}."
            )
        if "choices" in spec:
            dists[name], choices[name] = _categorical(name, spec)
        else:
            dists[name] = _numeric(name, spec)

    def decode(params):
        return {
            name: choices[name][value] if name in choices else value
            for name, value in params.items()
        }

    return dists, decode


def _categorical(name, spec):
    """A ``choices`` entry: its distribution over labels, and the values
    the labels stand for."""
    from optuna.distributions import CategoricalDistribution

    values = spec["choices"]
    if not isinstance(values, list) or not values or set(spec) - {"choices"}:
        raise ValueError(
            f"Search space entry {name!r}: 'choices' must be a non-empty "
            f"list and come alone, got {spec!r}."
        )
    decoded = {_label(v): tuple(v) if isinstance(v, list) else v for v in values}
    return CategoricalDistribution(list(decoded)), decoded


def _numeric(name, spec):
    """A ``low``/``high`` entry: an int or float distribution."""
    from optuna.distributions import FloatDistribution, IntDistribution

    unknown = set(spec) - {"low", "high", "log", "step"}
    low, high = spec.get("low"), spec.get("high")
    numbers_given = all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (low, high)
    )
    if unknown or not numbers_given or not low <= high:
        raise ValueError(
            f"Search space entry {name!r} must give numbers 'low' <= 'high' "
            f"(optionally 'log', 'step') or a list of 'choices', got {spec!r}."
        )
    ints = all(isinstance(v, int) for v in (low, high))
    kind = IntDistribution if ints else FloatDistribution
    try:
        return kind(low, high, log=bool(spec.get("log", False)), step=spec.get("step"))
    except ValueError as exc:
        raise ValueError(f"Search space entry {name!r}: {exc}") from exc


class PrunedCV:
    """Optuna objective: cross-validated accuracy of a classifier, trained one
    epoch at a time and reported after each epoch, so that the study's pruner
    can stop a poor trial early.

    Each fold's clone of ``estimator`` (with the trial's parameters) is
    trained by ``max_epochs`` calls of ``partial_fit``, which train what one
    ``fit`` trains; after each epoch the mean accuracy on the held-out folds
    is reported with ``step`` = epochs trained (1, 2, ...), so a
    successive-halving pruner with ``min_resource=1`` may stop a trial after
    its first epoch. A complete trial returns the mean accuracy after
    ``max_epochs`` epochs, and records per fold scores, their standard
    deviation, the epochs trained and the fit time as the trial's user
    attributes.

    Parameters
    ----------
    estimator : skfashion classifier
        The model to tune (cloned for every fold of every trial).
    space : dict
        The search space (see :func:`distributions`).
    X, y : arrays
        The training data (scaled as the model expects).
    cv : int or cross-validation generator, default=3
        As in scikit-learn (stratified ``cv`` folds for an int).
    deadline : callable or None, default=None
        Returns a time (``time.time()``) after which a trial stops at the end
        of its current epoch, as pruned, with the user attribute ``stopped``
        = ``"budget"``.
    on_step : callable or None, default=None
        Called as ``on_step(trial, epoch, fold)`` after every fold's epoch
        (a progress bar; an exception raised there stops the trial).

    Examples
    --------
    >>> import numpy as np
    >>> import optuna
    >>> from skfashion import FashionMLP
    >>> from skfashion.tuning import PrunedCV
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(60, 4).astype(np.float32), np.arange(60) % 2
    >>> objective = PrunedCV(
    ...     FashionMLP(hidden_units=(8,), max_epochs=2, validation_split=None),
    ...     {"lr": {"low": 1e-3, "high": 1e-2, "log": True}}, X, y, cv=2)
    >>> study = optuna.create_study(
    ...     direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    >>> study.optimize(objective, n_trials=2)
    >>> len(study.trials), 0 <= study.best_value <= 1
    (2, True)
    """

    def __init__(self, estimator, space, X, y, cv=3, deadline=None, on_step=None):
        self.estimator = estimator
        self.space = space
        self.X = X
        self.y = y
        self.cv = cv
        self.deadline = deadline
        self.on_step = on_step

    def __call__(self, trial):
        import optuna

        dists, decode = distributions(self.space)
        params = decode({name: _suggest(trial, name, d) for name, d in dists.items()})
        estimator = clone(self.estimator).set_params(**params)
        epochs = estimator.max_epochs
        cv = check_cv(self.cv, self.y, classifier=True)
        folds = list(cv.split(self.X, self.y))
        classes = np.unique(self.y)
        models = [clone(estimator) for _ in folds]
        scores = np.full(len(folds), np.nan)
        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            for i, (train, test) in enumerate(folds):
                models[i].partial_fit(self.X[train], self.y[train], classes=classes)
                scores[i] = models[i].score(self.X[test], self.y[test])
                if self.on_step is not None:
                    self.on_step(trial, epoch, i)
            trial.report(float(scores.mean()), step=epoch)
            self._record(trial, scores, epoch, time.perf_counter() - start)
            if epoch == epochs:
                break
            if self.deadline is not None and time.time() > self.deadline():
                trial.set_user_attr("stopped", "budget")
                raise optuna.TrialPruned(f"out of time after epoch {epoch}")
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch}")
        return float(scores.mean())

    @staticmethod
    def _record(trial, scores, epoch, seconds):
        trial.set_user_attr("epochs", epoch)
        trial.set_user_attr("fold_epochs", epoch * len(scores))
        trial.set_user_attr("split_scores", [float(s) for s in scores])
        trial.set_user_attr("std_score", float(np.std(scores)))
        trial.set_user_attr("seconds", round(seconds, 3))


def fold_epochs(trials):
    """Fold-epochs the trials trained (each trial's ``fold_epochs``)."""
    return int(sum(t.user_attrs.get("fold_epochs", 0) for t in trials))


def _suggest(trial, name, distribution):
    """``trial.suggest_*`` for an Optuna distribution."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    method = (
        trial.suggest_int
        if isinstance(distribution, IntDistribution)
        else (trial.suggest_float)
    )
    return method(
        name,
        distribution.low,
        distribution.high,
        log=distribution.log,
        step=distribution.step,
    )
