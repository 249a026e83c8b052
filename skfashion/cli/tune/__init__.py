"""``skfashion tune``: a pruned, resumable Optuna search of one model.

A thin shell over :func:`skfashion.experiments.run_tuning`: ``_config.py``
turns the options into a frozen configuration, ``_command.py`` opens the
study (:func:`skfashion.experiments.open_study`), shows the progress, runs
the tuning and writes its report (:meth:`~skfashion.experiments.TuningResult.write`).
"""

from ..._catalog import TITLES
from .._common import add_machine_arguments
from ._command import HELP, run
from ._config import DEFAULT_TRIALS, QUICK

__all__ = ["HELP", "add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("tune", help=HELP, description=HELP + ".")
    _add_search_arguments(p)
    _add_study_arguments(p)
    add_machine_arguments(p)
    p.set_defaults(run=run)
    return p


def _add_search_arguments(p):
    """What is searched, and for how long."""
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


def _add_study_arguments(p):
    """Where the study and the report go, and how a run joins them."""
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
