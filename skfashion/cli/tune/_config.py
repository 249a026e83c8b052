"""``skfashion tune``'s configuration: the command line, checked once and
turned into one frozen :class:`TuneConfig`."""

import re
from dataclasses import dataclass
from pathlib import Path

from .._common import ArgumentError, RunBuilder, check_device

__all__ = [
    "DEFAULT_TRIALS",
    "PRUNER",
    "QUICK",
    "REPORT_SECONDS",
    "TuneConfig",
    "TuneError",
    "config_from_args",
    "parse_duration",
]

QUICK = {"n_train": 1000, "n_test": 300, "epochs": 2, "trials": 4}
DEFAULT_TRIALS = 20  # when neither --budget nor --trials is given
REPORT_SECONDS = 15  # writing the report and plots, kept out of the budget
# successive halving over epochs: rungs at 1, 4, 16, ... epochs, keeping a
# quarter of the trials at each
PRUNER = {"min_resource": 1, "reduction_factor": 4}


class TuneError(Exception):
    """The tuning could not produce a model: one line on stderr, exit code 1."""


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

    @property
    def run(self):
        """The run's data and pipelines (:class:`RunBuilder`)."""
        return RunBuilder.of(self, quick_sizes=QUICK)


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
    from skfashion.tuning import DEFAULT_SPACES, read_space

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
    from skfashion.neural_network import CLASSIFIERS

    return CLASSIFIERS[args.model]().max_epochs


def _check_space(model, space):
    from skfashion.neural_network import CLASSIFIERS

    valid = CLASSIFIERS[model]().get_params()
    unknown = sorted(set(space) - set(valid))
    if unknown:
        raise ArgumentError(
            f"the search space names {', '.join(unknown)}, not parameters of "
            f"{CLASSIFIERS[model].__name__}"
        )
    if "max_epochs" in space:
        raise ArgumentError("max_epochs is --epochs, not part of the search space")
