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

import sys
import time

from tqdm.auto import tqdm

from skfashion import experiments, utils

from .._common import ArgumentError, interruptible
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
        config.out.mkdir(parents=True, exist_ok=True)
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
        config.space,
        data.X,
        data.y,
        X_test=data.X_test,
        y_test=data.y_test,
        study=study,
        trials=config.trials,
        budget=config.budget,
        cv=config.cv,
        epochs=config.epochs,
        random_state=config.seed,
        quick=config.quick,
        callbacks=[progress],
        should_stop=lambda: bool(stop),
        started=started,
    )


def _open(config, estimator):
    """The study, created or (--resume) continued; errors in the options' words."""
    settings = experiments.study_settings(
        estimator, config.space, epochs=config.epochs, cv=config.cv, quick=config.quick
    )
    try:
        experiments.check_space(estimator, settings["space"])
    except ValueError as exc:
        raise ArgumentError(
            str(exc).replace("max_epochs is epochs", "max_epochs is --epochs")
        ) from None
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


class Progress(experiments.TuningCallback):
    """What the search will do, then a bar of trials (or of the budget's
    seconds) with the counts of complete, pruned and running trials and the
    best score so far."""

    def __init__(self, config):
        self.config = config
        self.bar = None
        self.shown = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()

    def on_search_begin(self, study, plan):
        _announce(self.config, plan, tqdm.write)
        self.started, self.done = time.time(), plan["trials_done"]

    def _open_bar(self):
        """The bar, once a trial runs (a budget already spent shows none)."""
        by_trials = self.config.trials is not None
        total = self.config.trials if by_trials else round(self.config.budget)
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
            self.bar.set_postfix_str(_counts(study), refresh=False)
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


def _counts(study):
    counts = experiments.trial_counts(study)
    text = (
        f"{counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['running']} running"
    )
    best = experiments.best_trial(study)
    if best is not None:  # a pruned trial's last score while none completed
        text += f", best {100 * experiments.trial_score(best):.2f} %"
    return text


def _announce(config, plan, write):
    fmt = experiments.format_duration
    done = plan["trials_done"]
    what = (
        f"Tuning {plan['model']} on {plan['n_train']:,} images: {plan['cv']}-fold "
        f"cross-validation, up to {plan['epochs']} epochs per trial, pruned by "
        "successive halving (Optuna), "
    )
    limits = []
    if config.trials is not None:
        limits.append(f"{config.trials} trials")
    if config.budget is not None:
        limits.append(f"a budget of {fmt(config.budget)}")
    what += " and ".join(limits) + f"; study {config.study!r} in {config.storage}"
    write(what + (f" ({done} trials done before)." if done else "."))
    trial_s, refit_s = plan["trial_seconds"], plan["refit_seconds"]
    expected = (
        f"A complete trial takes about {fmt(trial_s)}, a pruned one "
        f"from about {fmt(trial_s / plan['epochs'])}; the refit on "
        f"all the training images about {fmt(refit_s)}"
    )
    if config.budget is not None:
        expected += f". The whole run ends within {fmt(config.budget)}"
    else:
        left = max(config.trials - done, 0)
        expected += (
            f". {left} trials take at most {fmt(left * trial_s + refit_s)}"
            ", usually far less as most are pruned"
        )
    write(expected + f" (timed on this machine: {utils.cpu_name()}).")
