"""What the long commands (``report``, ``tune``) share in checking their
arguments: the error they print as one line, and the ``--device`` check.

Imports nothing heavy, so that ``--help`` stays quick.
"""

__all__ = ["ArgumentError", "add_machine_arguments", "check_device"]


class ArgumentError(Exception):
    """A bad command-line value: one line on stderr, exit code 2."""


def check_device(device):
    """``--device``: auto, cpu or cuda[:N], and present on this machine."""
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise ArgumentError(f"--device must be auto, cpu or cuda, got {device}")
    if device != "auto":
        from skfashion.utils import resolve_device

        try:
            resolve_device(device)
        except ValueError as exc:
            raise ArgumentError(f"--device {device}: {exc}") from None


def add_machine_arguments(parser):
    """``--device``, ``--precision`` and ``--data-home``: where a long
    command trains, in which precision, on which copy of the data."""
    from ..._catalog import PRECISIONS

    parser.add_argument(
        "--device", default="auto", help="auto, cpu or cuda (default: auto)"
    )
    parser.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="training precision (default: auto)",
    )
    parser.add_argument("--data-home", metavar="DIR", help="where to look for the data")
