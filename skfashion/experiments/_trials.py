"""What a study's trials say: each one's score, the best, and how many are
in each state -- for the search, its progress and its report."""

from optuna.trial import TrialState

__all__ = ["best_trial", "trial_counts", "trial_score"]


def trial_score(trial):
    """A complete trial's score, or a pruned one's last reported score
    (``-inf`` for a trial that reported none).

    Examples
    --------
    >>> from optuna.trial import TrialState, create_trial
    >>> from skfashion.experiments import trial_score
    >>> trial_score(create_trial(state=TrialState.PRUNED,
    ...                          intermediate_values={1: 0.7, 4: 0.8}))
    0.8
    """
    if trial.value is not None:
        return trial.value
    steps = trial.intermediate_values
    return steps[max(steps)] if steps else float("-inf")


def trial_counts(study):
    """How many trials of ``study`` are in each state, and finished.

    Returns
    -------
    counts : dict
        Each state's lowercase name (``complete``, ``pruned``, ``running``,
        ``fail``, ``waiting``) -> its count, and ``finished``: complete and
        pruned together.

    Examples
    --------
    >>> import optuna
    >>> from skfashion.experiments import trial_counts
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study()
    >>> study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    >>> counts = trial_counts(study)
    >>> counts["complete"], counts["running"], counts["finished"]
    (2, 0, 2)
    """
    states = [t.state for t in study.get_trials(deepcopy=False)]
    counts = {s.name.lower(): states.count(s) for s in TrialState}
    counts["finished"] = counts["complete"] + counts["pruned"]
    return counts


def best_trial(study):
    """The best complete trial of ``study``; if none completed (a budget too
    short), the trial with the best last score; None if no trial has one.

    Examples
    --------
    >>> import optuna
    >>> from skfashion.experiments import best_trial
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    >>> best_trial(study).value == study.best_value
    True
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        return max(complete, key=lambda t: t.value)
    trials = [
        t
        for t in study.get_trials(
            deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)
        )
        if t.intermediate_values
    ]
    return max(trials, key=trial_score, default=None)
