"""The steps of ``skfashion tune``: load, time, search, refit, test, write.

Imported only when a tuning runs, so that ``skfashion --help`` imports
neither PyTorch nor Optuna.
"""

import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState
from sklearn.metrics import accuracy_score
from tqdm.auto import tqdm

from skfashion import PixelScaler
from skfashion.tuning import PrunedCV, distributions
from skfashion.utils import cpu_name, move_files_into, n_batches

from .._common import FashionData, format_duration
from ._config import PRUNER, REPORT_SECONDS, TuneError
from ._outputs import write_tuning_report
from ._study import fail_dead_trials, finished, owned

__all__ = ["search"]


@dataclass
class TuneData(FashionData):
    """The raw pixels, and the training pixels scaled as the trials see them."""

    @property
    def X_scaled(self):
        return PixelScaler().fit_transform(self.X)


def load(config):
    data = config.run.load()
    return TuneData(data.X, data.y, data.X_test, data.y_test)


def _fixed(config):
    """The parameters of every trial and of the refit (no internal
    validation split: the cross-validation folds validate)."""
    return {
        "max_epochs": config.epochs,
        "validation_split": None,
        "random_state": config.seed,
    }


def estimator(config, **params):
    """The model as every trial and the refit train it."""
    return _pipeline(config, **params)[-1]


def _pipeline(config, **params):
    return config.run.pipeline(config.model, **{**_fixed(config), **params})


@dataclass
class Budget:
    """When the search must stop so that the refit and the report still end
    within ``--budget``. The refit trains the best trial's parameters, or
    those of a running trial if it becomes the best: its time is the slower
    of their fold-epochs scaled to the whole training set, with a margin (the
    first timing, of the default parameters, until a trial has one)."""

    config: object
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
        cv = self.config.cv
        return self.margin * max(per) * cv / (cv - 1) * self.config.epochs

    def deadline(self, study):
        if self.config.budget is None:
            return float("inf")
        reserve = self.refit_reserve(study) + REPORT_SECONDS
        return self.started + self.config.budget - reserve


def _estimate(config, data):
    """Seconds of a complete trial and of the refit, timed on a few batches
    of the default parameters on this machine."""
    per_batch, setup, per_sample = config.run.time(
        config.model, data.X, data.y, **_fixed(config)
    )

    net = estimator(config)
    n = len(data.y)
    batches = n_batches(net, net.get_dataset(data.X, data.y), training=True)
    fold = (config.cv - 1) / config.cv
    trial = (
        config.cv
        * config.epochs
        * (setup + batches * fold * per_batch + n / config.cv * per_sample)
    )
    refit = setup + config.epochs * batches * per_batch + len(data.y_test) * per_sample
    return trial, refit


def _announce(config, data, study, trial_s, refit_s, write):
    done = len(finished(study))
    what = (
        f"Tuning {config.model} on {len(data.y):,} images: {config.cv}-fold "
        f"cross-validation, up to {config.epochs} epochs per trial, pruned by "
        "successive halving (Optuna), "
    )
    limits = []
    if config.trials is not None:
        limits.append(f"{config.trials} trials")
    if config.budget is not None:
        limits.append(f"a budget of {format_duration(config.budget)}")
    what += " and ".join(limits) + f"; study {config.study!r} in {config.storage}"
    write(what + (f" ({done} trials done before)." if done else "."))
    expected = (
        f"A complete trial takes about {format_duration(trial_s)}, a pruned one "
        f"from about {format_duration(trial_s / config.epochs)}; the refit on "
        f"all the training images about {format_duration(refit_s)}"
    )
    if config.budget is not None:
        expected += f". The whole run ends within {format_duration(config.budget)}"
    else:
        left = max(config.trials - done, 0)
        expected += (
            f". {left} trials take at most {format_duration(left * trial_s + refit_s)}"
            ", usually far less as most are pruned"
        )
    write(expected + f" (timed on this machine: {cpu_name()}).")


class _Progress:
    """A progress bar of trials (or of the budget's seconds) with the counts
    of complete, pruned and running trials and the best score so far."""

    def __init__(self, config, study, started):
        self.config, self.study, self.started = config, study, started
        self.by_trials = config.trials is not None
        total = config.trials if self.by_trials else round(config.budget)
        self.bar = tqdm(
            total=total,
            initial=min(len(finished(study)), total) if self.by_trials else 0,
            unit="trial" if self.by_trials else "s",
            desc="trials" if self.by_trials else "budget",
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}{postfix}]",
        )
        self.shown = 0.0

    def step(self, trial=None, epoch=None, fold=None):
        now = time.time()
        if not self.by_trials:
            self.bar.n = min(round(now - self.started), self.bar.total)
        if now - self.shown > 1.0:
            self.bar.set_postfix_str(self._counts(), refresh=False)
            self.bar.refresh()
            self.shown = now

    def trial_done(self, study, trial):
        if self.by_trials:
            self.bar.n = min(len(finished(study)), self.bar.total)
        self.shown = 0.0
        self.step()

    def _counts(self):
        states = [t.state for t in self.study.get_trials(deepcopy=False)]
        text = (
            f"{states.count(TrialState.COMPLETE)} complete, "
            f"{states.count(TrialState.PRUNED)} pruned, "
            f"{states.count(TrialState.RUNNING)} running"
        )
        best = best_trial(self.study)
        if best is not None:
            text += f", best {100 * trial_score(best):.2f} %"
        return text

    def close(self):
        self.bar.close()


def trial_score(trial):
    """A complete trial's score, or a pruned one's last reported score."""
    if trial.value is not None:
        return trial.value
    steps = trial.intermediate_values
    return steps[max(steps)] if steps else float("-inf")


def best_trial(study):
    """The best complete trial; if none completed (a budget too short), the
    trial with the best last score."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        return max(complete, key=lambda t: t.value)
    trials = [t for t in finished(study) if t.intermediate_values]
    return max(trials, key=trial_score, default=None)


def _stop_when_done(config, budget):
    """A study callback: stop at the trial budget (every process of the
    study together) or when the search's share of the time budget is spent."""

    def callback(study, trial):
        if config.trials is not None and len(finished(study)) >= config.trials:
            study.stop()
        elif time.time() >= budget.deadline(study):
            study.stop()

    return callback


def _interrupt_check(stop, progress):
    def on_step(trial, epoch, fold):
        if stop:  # skorch ended the epoch quietly on the signal: end the trial
            raise KeyboardInterrupt
        progress.step(trial, epoch, fold)

    return on_step


def _optimize(config, study, data, budget, stop):
    if config.trials is not None and len(finished(study)) >= config.trials:
        return
    if time.time() >= budget.deadline(study):
        return
    progress = _Progress(config, study, budget.started)
    objective = PrunedCV(
        estimator(config),
        config.space,
        data.X_scaled,
        data.y,
        cv=config.cv,
        deadline=lambda: budget.deadline(study),
        on_step=_interrupt_check(stop, progress),
    )
    try:
        study.optimize(
            owned(objective),
            callbacks=[_stop_when_done(config, budget), progress.trial_done],
            gc_after_trial=True,
        )
    finally:
        progress.close()


def _refit(config, study, data, stop):
    best = best_trial(study)
    if best is None:
        raise TuneError(
            "no trial finished an epoch within the budget (the refit and the "
            "report need their share of it): give a longer --budget, or --trials"
        )
    _, decode = distributions(config.space)
    params = decode(best.params)
    pipe = _pipeline(config, **params)
    start = time.time()
    pipe.fit(data.X, data.y)
    if stop:  # skorch ends fit quietly on Ctrl-C
        raise KeyboardInterrupt
    refit_seconds = time.time() - start
    test_accuracy = float(accuracy_score(data.y_test, pipe.predict(data.X_test)))
    return best, params, pipe, refit_seconds, test_accuracy


def search(config, study, stop, started):
    """Run the whole tuning; return the summary written to tuning.json."""
    data = load(config)
    trial_s, refit_s = _estimate(config, data)
    _announce(config, data, study, trial_s, refit_s, tqdm.write)
    budget = Budget(config, started, refit_s)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        _optimize(config, study, data, budget, stop)
    search_seconds = time.time() - started
    fail_dead_trials(study)  # another process of the study may have died
    best, params, pipe, refit_seconds, test_accuracy = _refit(config, study, data, stop)
    summary = {
        "best_trial": best.number,
        "best_params": params,
        "best_complete": best.value is not None,
        "cv_score": trial_score(best),
        "cv_std": best.user_attrs.get("std_score"),
        "cv_splits": best.user_attrs.get("split_scores"),
        "test_accuracy": test_accuracy,
        "search_seconds": round(search_seconds, 1),
        "refit_seconds": round(refit_seconds, 1),
        "estimated_trial_seconds": round(trial_s, 1),
        "pruner": f"SuccessiveHalvingPruner({PRUNER})",
    }
    _write(config, study, pipe, summary, started)
    return summary


def _write(config, study, pipe, summary, started):
    """Write the report into a temporary folder, then move its files into
    the output folder (report.md last): never a half report."""
    work = Path(tempfile.mkdtemp(prefix=".report-", dir=config.out))
    try:
        write_tuning_report(work, config, study, pipe, summary, started)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    move_files_into(work, config.out)
