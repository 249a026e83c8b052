"""What a run says to a person, as text: the tuning's plan and progress,
a model's result in the report. The command line prints these; a notebook
may too."""

from ..utils import cpu_name
from ._timing import format_duration
from ._trials import best_trial, trial_counts, trial_score

__all__ = ["describe_model", "describe_search", "describe_trials"]


def describe_search(plan, *, study_name=None, storage=None):
    """The plan of :func:`run_tuning`, as two sentences: what is searched
    and within which limits, then what it will cost on this machine.

    Parameters
    ----------
    plan : dict
        What :meth:`TuningCallback.on_search_begin` is given.
    study_name, storage : str, default=None
        Where the study is kept, said when given.

    Returns
    -------
    lines : list of str

    Examples
    --------
    >>> from skfashion.experiments import describe_search
    >>> plan = {"model": "mlp", "n_train": 1000, "cv": 3, "epochs": 2,
    ...         "trials": 4, "budget_seconds": None, "trials_done": 0,
    ...         "trial_seconds": 12.0, "refit_seconds": 5.0}
    >>> print(describe_search(plan)[0])  # doctest: +NORMALIZE_WHITESPACE
    Tuning mlp on 1,000 images: 3-fold cross-validation, up to 2 epochs per
    trial, pruned by successive halving (Optuna), 4 trials.
    """
    fmt = format_duration
    done, trials, budget = plan["trials_done"], plan["trials"], plan["budget_seconds"]
    limits = [f"{trials} trials"] if trials is not None else []
    if budget is not None:
        limits.append(f"a budget of {fmt(budget)}")
    what = (
        f"Tuning {plan['model']} on {plan['n_train']:,} images: {plan['cv']}-fold "
        f"cross-validation, up to {plan['epochs']} epochs per trial, pruned by "
        "successive halving (Optuna), " + " and ".join(limits)
    )
    if study_name is not None:
        what += f"; study {study_name!r}" + (f" in {storage}" if storage else "")
    trial_s, refit_s = plan["trial_seconds"], plan["refit_seconds"]
    cost = (
        f"A complete trial takes about {fmt(trial_s)}, a pruned one "
        f"from about {fmt(trial_s / plan['epochs'])}; the refit on "
        f"all the training images about {fmt(refit_s)}"
    )
    if budget is not None:
        cost += f". The whole run ends within {fmt(budget)}"
    else:
        left = max(trials - done, 0)
        cost += (
            f". {left} trials take at most {fmt(left * trial_s + refit_s)}"
            ", usually far less as most are pruned"
        )
    return [
        what + (f" ({done} trials done before)." if done else "."),
        cost + f" (timed on this machine: {cpu_name()}).",
    ]


def describe_trials(study):
    """The trials of ``study`` in a few words: how many are complete,
    pruned and running, and the best score so far.

    Examples
    --------
    >>> import optuna
    >>> from skfashion.experiments import describe_trials
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(lambda trial: 0.5, n_trials=2)
    >>> describe_trials(study)
    '2 complete, 0 pruned, 0 running, best 50.00 %'
    """
    counts = trial_counts(study)
    text = (
        f"{counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['running']} running"
    )
    best = best_trial(study)
    if best is not None:  # a pruned trial's last score while none completed
        text += f", best {100 * trial_score(best):.2f} %"
    return text


def describe_model(name, evaluation):
    """One model's result in a report, in a line: its test accuracy over
    the seeds, its validation accuracy and the seconds a fit took.

    ``evaluation`` is what :meth:`ReportCallback.on_model_end` is given
    (an item of :attr:`Report.evaluations`).

    Examples
    --------
    >>> from skfashion.experiments import describe_model
    >>> ev = {"summary": {"mean": 0.9, "std": 0.01, "n": 2},
    ...       "valid_accuracy": 0.91, "train_seconds": 30.2}
    >>> describe_model("mlp", ev)
    'mlp: test accuracy 90.00 % ± 1.00 over 2 seeds, validation 91.00 %, 30 s per fit'
    """
    s = evaluation["summary"]
    spread = f" ± {100 * s['std']:.2f}" if s["n"] > 1 else ""
    return (
        f"{name}: test accuracy {100 * s['mean']:.2f} %{spread} over {s['n']} "
        f"seed{'s' * (s['n'] != 1)}, validation "
        f"{100 * evaluation['valid_accuracy']:.2f} %, "
        f"{evaluation['train_seconds']:.0f} s per fit"
    )
