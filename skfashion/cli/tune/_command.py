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

from .._common import ArgumentError, format_duration, interruptible
from ._config import TuneError, config_from_args

__all__ = ["HELP", "run"]

HELP = "tune a model's hyper-parameters with a pruned, resumable Optuna search"


def run(args, parser):
    try:  # Optuna: not for --help
        from ._study import finished, open_study
    except ImportError as exc:
        print(
            f'skfashion tune: error: {exc.name or exc}: pip install "skfashion[tune]"',
            file=sys.stderr,
        )
        return 2

    try:
        config = config_from_args(args)
        config.out.mkdir(parents=True, exist_ok=True)
        study = open_study(config)
    except ArgumentError as exc:
        print(f"skfashion tune: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"skfashion tune: error: {exc}", file=sys.stderr)
        return 1
    from ._experiment import search

    started = time.time()
    with interruptible() as stop:
        try:
            summary = search(config, study, stop, started)
        except TuneError as exc:
            print(f"skfashion tune: error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            done = len(finished(study))
            how = f" ({stop.name})" if stop.name not in (None, "SIGINT") else ""
            print(
                f"skfashion tune: interrupted{how}: no report written; the study "
                f"keeps its {done} finished trial(s) in {config.storage}: run the "
                "same command with --resume to continue it",
                file=sys.stderr,
            )
            return stop.exit_code
    print(
        f"Tuning report written to {config.out}/report.md in "
        f"{format_duration(time.time() - started)}: test accuracy "
        f"{100 * summary['test_accuracy']:.2f} %."
    )
    return 0
