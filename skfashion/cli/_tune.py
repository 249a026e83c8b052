"""``skfashion tune``: tune one model on the training set within a budget.

Optuna searches (a seeded TPE sampler) and prunes (successive halving over
epochs: every trial is cross-validated one epoch at a time, see
``skfashion._tuning.PrunedCV``); the study lives in a storage (a SQLite file
in the output folder by default) that other ``skfashion tune`` processes, on
this machine or others, may share. At the end the best parameters are refit
on the whole training set, the test set is scored once, and the tuning report
is written. Ctrl-C or SIGTERM keep the study (the interrupted trial is marked
failed and tried again by ``--resume``) and write no report.
"""

import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from .._catalog import TITLES
from .._hardware import PRECISIONS
from ._args import ArgumentError, check_device
from ._report_clock import format_duration
from ._signals import interruptible

HELP = "tune a model's hyper-parameters with a pruned, resumable Optuna search"

QUICK = {"n_train": 1000, "n_test": 300, "epochs": 2, "trials": 4}
DEFAULT_TRIALS = 20  # when neither --budget nor --trials is given
REPORT_SECONDS = 15  # writing the report and plots, kept out of the budget
# successive halving over epochs: rungs at 1, 4, 16, ... epochs, keeping a
# quarter of the trials at each
PRUNER = {"min_resource": 1, "reduction_factor": 4}


class TuneError(Exception):
    """The tuning could not produce a model: one line on stderr, exit code 1."""


def add_parser(sub):
    p = sub.add_parser("tune", help=HELP, description=HELP + ".")
    p.add_argument(
        "--model",
        default="mlp",
        choices=list(TITLES),
        help="the model to tune (default: mlp)",
    )
    p.add_argument(
        "--budget",
        help="wall time of the whole command, search, refit and report included, "
        "e.g. 15m, 90s, 1h30m",
    )
    p.add_argument(
        "--trials",
        type=int,
        help="trials of the study (all its processes together; resumed runs "
        f"count the trials already done) (default: {DEFAULT_TRIALS} if no "
        f"--budget; {QUICK['trials']} with --quick)",
    )
    p.add_argument(
        "--cv", type=int, default=3, help="cross-validation folds (default: 3)"
    )
    p.add_argument(
        "--epochs",
        type=int,
        help="epochs of a complete trial and of the refit (default: the model's "
        f"max_epochs; {QUICK['epochs']} with --quick)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--space",
        metavar="FILE",
        help="search space, a JSON or TOML file of {parameter: {low, high[, log, "
        "step]} or {choices: [...]}} (default: the model's, see the docs)",
    )
    p.add_argument("--out", default="tuning", help="output folder (default: tuning)")
    p.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage shared by the study's processes: a database URL "
        "(sqlite:///..., postgresql://..., mysql://...) or a journal file path "
        "(default: sqlite:///<out>/study.db)",
    )
    p.add_argument("--study", help="study name (default: skfashion-<model>)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the study (or join it from another process) instead of "
        "refusing to touch an existing one",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK['n_train']:,} training images, {QUICK['epochs']} epochs: a "
        "smoke test that finishes in under a minute",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument(
        "--precision", default="auto", choices=PRECISIONS, help="(default: auto)"
    )
    p.add_argument("--data-home", metavar="DIR", help="where to look for the data")
    p.set_defaults(run=run)
    return p


@dataclass(frozen=True)
class TuneConfig:
    """What one run of ``skfashion tune`` does, decided from the arguments."""

    model: str
    budget: float  # seconds, or None
    trials: int  # or None: until the budget is spent
    cv: int
    epochs: int
    seed: int
    space: dict
    space_source: str
    out: Path
    storage: str
    study: str
    resume: bool = False
    quick: bool = False
    device: str = "auto"
    precision: str = "auto"
    data_home: str = None


def parse_duration(text):
    """'15m' -> 900.0; '90s', '1h30m', '1.5h' and '2h 5m' too."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(h|m|min|s)", text.strip().lower())
    rest = re.sub(r"(\d+(?:\.\d+)?)\s*(h|m|min|s)", "", text.strip().lower()).strip()
    if not parts or rest:
        raise ArgumentError(
            f"--budget must be a duration with units such as 15m, 90s or 1h30m, "
            f"got {text!r}"
        )
    unit = {"h": 3600, "m": 60, "min": 60, "s": 1}
    seconds = sum(float(n) * unit[u] for n, u in parts)
    if seconds <= 0:
        raise ArgumentError(f"--budget must be positive, got {text!r}")
    return seconds


def config_from_args(args):
    """The run's :class:`TuneConfig`, or an ArgumentError."""
    from skfashion._tuning import DEFAULT_SPACES, read_space

    budget = parse_duration(args.budget) if args.budget is not None else None
    trials = args.trials
    if trials is None and budget is None:
        trials = QUICK["trials"] if args.quick else DEFAULT_TRIALS
    for name, value, low in (("--trials", trials, 1), ("--cv", args.cv, 2)):
        if value is not None and value < low:
            raise ArgumentError(f"{name} must be at least {low}, got {value}")
    if args.epochs is not None and args.epochs < 1:
        raise ArgumentError(f"--epochs must be at least 1, got {args.epochs}")
    if args.space:
        try:
            space = read_space(args.space)
        except (OSError, ValueError) as exc:
            raise ArgumentError(f"--space {args.space}: {exc}") from None
    else:
        space = DEFAULT_SPACES[args.model]
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArgumentError(f"--out {out} exists and is not a folder")
    _check_space(args.model, space)
    check_device(args.device)
    return TuneConfig(
        model=args.model,
        budget=budget,
        trials=trials,
        cv=args.cv,
        epochs=args.epochs or (QUICK["epochs"] if args.quick else _max_epochs(args)),
        seed=args.seed,
        space=space,
        space_source=args.space or f"the default space of {args.model}",
        out=out,
        storage=args.storage or f"sqlite:///{(out / 'study.db').resolve()}",
        study=args.study or f"skfashion-{args.model}",
        resume=args.resume,
        quick=args.quick,
        device=args.device,
        precision=args.precision,
        data_home=args.data_home,
    )


def _max_epochs(args):
    from skfashion._registry import CLASSIFIERS

    return CLASSIFIERS[args.model]().max_epochs


def _check_space(model, space):
    from skfashion._registry import CLASSIFIERS

    valid = CLASSIFIERS[model]().get_params()
    unknown = sorted(set(space) - set(valid))
    if unknown:
        raise ArgumentError(
            f"the search space names {', '.join(unknown)}, not parameters of "
            f"{CLASSIFIERS[model].__name__}"
        )
    if "max_epochs" in space:
        raise ArgumentError("max_epochs is --epochs, not part of the search space")


# ------------------------------------------------------------------- study
def _storage(url):
    """An Optuna storage for a URL (database, with heartbeats so that the
    trials of a killed process are failed and retried) or a journal file."""
    import optuna
    from optuna.storages import (
        JournalStorage,
        RDBStorage,
        RetryHeartbeatStaleTrialCallback,
    )
    from optuna.storages.journal import JournalFileBackend

    if "://" not in url:
        return JournalStorage(JournalFileBackend(url))
    engine = {}
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        # processes sharing the file wait for each other's writes
        engine = {"connect_args": {"timeout": 60}}
    for attempt in range(6):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(
                    url,
                    engine_kwargs=engine,
                    heartbeat_interval=30,
                    grace_period=120,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                        max_retry=2
                    ),
                )
        except Exception as exc:
            from sqlalchemy.exc import IntegrityError, OperationalError

            # another process creating the same tables: try again
            racing = isinstance(exc, IntegrityError | OperationalError)
            if not racing or attempt == 5:
                raise ArgumentError(f"--storage {url}: {exc}") from None
            time.sleep(0.2 * 2**attempt)


def open_study(config):
    """Create the study, or load it with --resume; refuse to touch an
    existing study without --resume."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _storage(config.storage)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    if config.study in names and not config.resume:
        raise ArgumentError(
            f"study {config.study!r} already exists in {config.storage}: continue "
            "it with --resume, or give another --study or --out"
        )
    # a fresh study is reproducible from --seed; a joining process samples
    # on its own stream, so that parallel workers do not repeat each other
    joining = config.study in names
    seed = config.seed + (os.getpid() if joining else 0)
    study = optuna.create_study(
        storage=storage,
        study_name=config.study,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.SuccessiveHalvingPruner(**PRUNER),
        load_if_exists=True,
    )
    saved = study.user_attrs.get("settings")
    settings = _settings(config)
    if saved is None:
        study.set_user_attr("settings", settings)
    elif saved != settings:
        raise ArgumentError(
            f"study {config.study!r} was tuning other settings ({_describe(saved)}): "
            "give the same --model, --epochs, --cv, --space and --quick, or another "
            "--study"
        )
    _retry_interrupted(study)
    return study


def _settings(config):
    """What makes trials comparable: a study keeps them and refuses others."""
    return {
        "model": config.model,
        "epochs": config.epochs,
        "cv": config.cv,
        "space": config.space,
        "quick": config.quick,
    }


def _describe(settings):
    return (
        f"--model {settings['model']}, --epochs {settings['epochs']}, --cv "
        f"{settings['cv']}{', --quick' if settings['quick'] else ''}"
    )


def _retry_interrupted(study):
    """Queue again, once, the parameters of each failed trial (a Ctrl-C, a
    SIGTERM): no trial that was cut short is lost. Trials that Optuna's
    heartbeat already retried (a killed process) are not queued twice."""
    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import RetryHeartbeatStaleTrialCallback as Retry
    from optuna.trial import TrialState

    retried = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        for t in study.get_trials(deepcopy=False):
            retried.add(t.user_attrs.get("retry_of"))
            retried.add(Retry.retried_trial_number(t))
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if trial.number not in retried:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})


def finished(study):
    from optuna.trial import TrialState

    return study.get_trials(
        deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)
    )


# --------------------------------------------------------------------- run
def run(args, parser):
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
    from ._tune_search import search

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
