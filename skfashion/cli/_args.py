"""What the long commands (``report``, ``tune``) share in checking their
arguments: the error they print as one line, and the ``--device`` check.

Imports nothing heavy, so that ``--help`` stays quick.
"""

__all__ = ["ArgumentError", "check_device"]


class ArgumentError(Exception):
    """A bad command-line value: one line on stderr, exit code 2."""


def check_device(device):
    """``--device``: auto, cpu or cuda[:N], and present on this machine."""
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise ArgumentError(f"--device must be auto, cpu or cuda, got {device}")
    if device != "auto":
        from skfashion._hardware import resolve_device

        try:
            resolve_device(device)
        except ValueError as exc:
            raise ArgumentError(f"--device {device}: {exc}") from None
