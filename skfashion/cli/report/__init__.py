"""``skfashion report``: re-run the original report in one command.

A thin shell over :func:`skfashion.experiments.run_report`: ``_config.py``
turns the options into a :class:`~skfashion.experiments.ReportConfig`,
``_progress.py`` shows the run's progress, and ``_command.py`` runs it,
writes it (:meth:`~skfashion.experiments.Report.write`) and says what
happened.
"""

from .._common import add_machine_arguments
from ._command import HELP, run

__all__ = ["HELP", "add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("report", help=HELP, description=HELP + ".")
    _add_experiment_arguments(p)
    _add_output_arguments(p)
    add_machine_arguments(p)
    p.set_defaults(run=run)
    return p


def _add_experiment_arguments(p):
    """Which models are trained, how long, with which seeds."""
    p.add_argument(
        "--models",
        default="mlp,cnn",
        help="comma-separated models to run: mlp, cnn (the report's two), fast "
        "(FastFashionCNN, a modern recipe) (default: mlp,cnn)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs of every model (default: 10, the report's, for mlp and cnn; "
        "FastFashionCNN's own for fast; 1 with --quick)",
    )
    p.add_argument(
        "--random-state", type=int, default=0, help="seed of the first run (default: 0)"
    )
    p.add_argument(
        "--seeds",
        default="1",
        help="repeat each model with this many seeds (random states "
        "--random-state, +1, ...): mean, standard deviation, 95 %% interval; "
        "a number, or one per model such as mlp=3,cnn=1 (default: 1)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a few hundred images and 1 epoch: a smoke test of the whole report",
    )
    p.add_argument(
        "--held-out",
        action="append",
        metavar="CLASSES",
        help="also train each model without these classes (comma-separated "
        "indices, such as 6,5 for Shirt and Sandal; repeat the option for more "
        "splits, or 'all' for the five pairs of skfashion.evaluation."
        "HELD_OUT_SPLITS) and report how well each novelty detector flags them",
    )
    p.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="fits trained at once in worker processes (joblib; default: one, "
        "in this process, with a progress bar of every batch)",
    )


def _add_output_arguments(p):
    """Where the report goes, and what becomes of an interrupted one."""
    p.add_argument("--out", default="report", help="output folder (default: report)")
    p.add_argument(
        "--resume",
        action="store_true",
        help=(
            "continue an interrupted run from its per-epoch checkpoints "
            "(in <out>.checkpoints/) instead of starting over"
        ),
    )
    p.add_argument(
        "--onnx",
        nargs="?",
        const="float32",
        choices=["float32", "int8"],
        help=(
            "also write each model as model.onnx (export_onnx; the onnx extra); "
            "--onnx int8 adds model-int8.onnx, quantized and calibrated on 500 "
            "training images"
        ),
    )
