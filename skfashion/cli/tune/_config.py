"""``skfashion tune``'s options, checked once and turned into one frozen
:class:`TuneConfig`: what :func:`skfashion.experiments.run_tuning` is
called with, and where the study and the report go."""

from dataclasses import dataclass
from pathlib import Path

from skfashion import experiments, tuning

from .._common import ArgumentError, check_device

__all__ = ["DEFAULT_TRIALS", "QUICK", "TuneConfig", "config_from_args"]

QUICK = {"n_train": 1000, "n_test": 300, "epochs": 2, "trials": 4}
DEFAULT_TRIALS = 20  # when neither --budget nor --trials is given


@dataclass(frozen=True)
class TuneConfig:
    """What one run of ``skfashion tune`` does, decided from the arguments."""

    model: str
    budget: str  # a duration such as 15m, or None
    trials: int  # or None: until the budget is spent
    cv: int
    epochs: int  # or None: the model's max_epochs
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
    def builder(self):
        """The run's data and pipelines."""
        return experiments.RunBuilder.of(self, quick_sizes=QUICK)

    @property
    def search(self):
        """The search's settings, as run_tuning and check_tuning take them."""
        return {
            k: getattr(self, k) for k in ("space", "trials", "budget", "cv", "epochs")
        }


def config_from_args(args):
    """The run's :class:`TuneConfig`, or an ArgumentError; the search's
    own settings are checked by the library, before the study is opened."""
    trials = args.trials
    if trials is None and args.budget is None:
        trials = QUICK["trials"] if args.quick else DEFAULT_TRIALS
    epochs = args.epochs
    if epochs is None and args.quick:
        epochs = QUICK["epochs"]
    space = None
    if args.space:
        try:
            space = tuning.read_space(args.space)
        except (OSError, ValueError) as exc:
            raise ArgumentError(f"--space {args.space}: {exc}") from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArgumentError(f"--out {out} exists and is not a folder")
    check_device(args.device)
    return TuneConfig(
        model=args.model,
        budget=args.budget,
        trials=trials,
        cv=args.cv,
        epochs=epochs,
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
