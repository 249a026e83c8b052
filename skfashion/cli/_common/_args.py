"""What the commands share in their arguments: the error they print as one
line, ``--device`` and its check, ``--model``.

Imports nothing heavy, so that ``--help`` stays quick.
"""

from skfashion import utils

__all__ = [
    "ArgumentError",
    "add_machine_arguments",
    "add_model_argument",
    "check_device",
]


class ArgumentError(Exception):
    """A bad command-line value: one line on stderr, exit code 2."""


def check_device(device):
    """``--device``: auto, cpu or cuda[:N], and present on this machine."""
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise ArgumentError(f"--device must be auto, cpu or cuda, got {device}")
    if device != "auto":
        try:
            utils.resolve_device(device)
        except ValueError as exc:
            raise ArgumentError(f"--device {device}: {exc}") from None


def add_machine_arguments(parser):
    """``--device``, ``--precision`` and ``--data-home``: where a long
    command trains, in which precision, on which copy of the data."""
    parser.add_argument(
        "--device", default="auto", help="auto, cpu or cuda (default: auto)"
    )
    parser.add_argument(
        "--precision",
        default="auto",
        choices=utils.PRECISIONS,
        help="training precision (default: auto)",
    )
    parser.add_argument("--data-home", metavar="DIR", help="where to look for the data")


def add_model_argument(parser):
    """``--model`` and ``--allow-pickle``, as ``predict`` and ``serve`` take
    them."""
    parser.add_argument(
        "--model",
        required=True,
        help=(
            "a model file (model.safetensors from save_model, model.onnx from "
            "export_onnx, or with --allow-pickle a .pkl/.joblib pickle) or a "
            "folder holding one, e.g. report/cnn"
        ),
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load a .pkl/.joblib pickle: it runs code from the file (only "
        "for files you trust)",
    )
