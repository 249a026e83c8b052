"""``skfashion tune``: tune one model on the training set within a budget.

Optuna searches (a seeded TPE sampler) and prunes (successive halving over
epochs: every trial is cross-validated one epoch at a time, see
``skfashion.tuning.PrunedCV``); the study lives in a storage (a SQLite file
in the output folder by default) that other ``skfashion tune`` processes, on
this machine or others, may share. At the end the best parameters are refit
on the whole training set, the test set is scored once, and the tuning report
is written. Ctrl-C or SIGTERM keep the study (the interrupted trial is marked
failed and tried again by ``--resume``) and write no report.
"""

import re
import sys
import time

from tqdm.auto import tqdm

from skfashion import experiments

from .._common import ArgumentError, ClosesBar, interruptible
from ._config import config_from_args

__all__ = ["HELP", "run"]

HELP = "tune a model's hyper-parameters with a pruned, resumable Optuna search"


def _error(message, code):
    print(f"skfashion tune: error: {message}", file=sys.stderr)
    return code


def run(args, parser):
    started = time.time()
    try:
        config = config_from_args(args)
        estimator = config.builder.pipeline(config.model)[-1]
        study = _open(config, estimator)
    except ImportError as exc:  # Optuna: the tune extra
        return _error(f'{exc.name or exc}: pip install "skfashion[tune]"', 2)
    except ArgumentError as exc:
        return _error(exc, 2)
    except OSError as exc:
        return _error(exc, 1)
    with interruptible() as stop, Progress(config) as progress:
        try:
            result = _tune(config, estimator, study, progress, stop, started)
        except experiments.TuningError as exc:
            return _error(str(exc).replace("budget", "--budget"), 1)
        except KeyboardInterrupt:
            done = experiments.trial_counts(study)["finished"]
            how = f" ({stop.name})" if stop.name not in (None, "SIGINT") else ""
            print(
                f"skfashion tune: interrupted{how}: no report written; the study "
                f"keeps its {done} finished trial(s) in {config.storage}: run the "
                "same command with --resume to continue it",
                file=sys.stderr,
            )
            return stop.exit_code
    result.write(config.out, storage=config.storage, space_source=config.space_source)
    print(
        f"Tuning report written to {config.out}/report.md in "
        f"{experiments.format_duration(time.time() - started)}: test accuracy "
        f"{100 * result.test_accuracy:.2f} %."
    )
    return 0


def _tune(config, estimator, study, progress, stop, started):
    data = config.builder.load()
    return experiments.run_tuning(
        estimator,
        X=data.X,
        y=data.y,
        X_test=data.X_test,
        y_test=data.y_test,
        study=study,
        **config.search,
        random_state=config.seed,
        quick=config.quick,
        callbacks=[progress],
        should_stop=lambda: bool(stop),
        started=started,
    )


def _open(config, estimator):
    """The study, created or (--resume) continued; errors in the options' words."""
    c = config
    try:
        experiments.check_tuning(estimator, **c.search)
    except ValueError as exc:  # the library names the setting: say the option
        words = re.sub(r"^(cv|trials|epochs|budget) ", r"--\1 ", str(exc))
        raise ArgumentError(words.replace("is epochs", "is --epochs")) from None
    settings = experiments.study_settings(
        estimator, c.space, epochs=c.epochs, cv=c.cv, quick=c.quick
    )
    c.out.mkdir(parents=True, exist_ok=True)
    try:
        return experiments.open_study(
            config.storage,
            config.study,
            settings=settings,
            resume=config.resume,
            seed=config.seed,
        )
    except FileExistsError as exc:
        raise ArgumentError(
            str(exc)
            .replace("resume=True", "--resume")
            .replace("study name or storage", "--study or --out")
        ) from None
    except ValueError as exc:
        words = str(exc).replace("storage ", "--storage ", 1)
        if "other settings" in words:
            words += (
                ": give the same --model, --epochs, --cv, --space and --quick, "
                "or another --study"
            )
        raise ArgumentError(words) from None


class Progress(experiments.TuningCallback, ClosesBar):
    """What the search will do, then a bar of trials (or of the budget's
    seconds) with the counts of complete, pruned and running trials and the
    best score so far."""

    def __init__(self, config):
        self.config = config
        self.shown = 0.0

    def on_search_begin(self, study, plan):
        c, self.budget = self.config, plan["budget_seconds"]
        for line in experiments.describe_search(
            plan, study_name=c.study, storage=c.storage
        ):
            tqdm.write(line)
        self.started, self.done = time.time(), plan["trials_done"]

    def _open_bar(self):
        """The bar, once a trial runs (a budget already spent shows none)."""
        by_trials = self.config.trials is not None
        total = self.config.trials if by_trials else round(self.budget)
        self.bar = tqdm(
            total=total,
            initial=min(self.done, total) if by_trials else 0,
            unit="trial" if by_trials else "s",
            desc="trials" if by_trials else "budget",
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}{postfix}]",
        )

    def on_step(self, study, trial, epoch, fold):
        if self.bar is None:
            self._open_bar()
        now = time.time()
        if self.config.trials is None:
            self.bar.n = min(round(now - self.started), self.bar.total)
        if now - self.shown > 1.0:
            self.bar.set_postfix_str(experiments.describe_trials(study), refresh=False)
            self.bar.refresh()
            self.shown = now

    def on_trial_end(self, study, trial):
        if self.bar is None:
            self._open_bar()
        if self.config.trials is not None:
            done = experiments.trial_counts(study)["finished"]
            self.bar.n = min(done, self.bar.total)
        self.shown = 0.0
        self.on_step(study, trial, None, None)
