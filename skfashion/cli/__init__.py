"""The ``skfashion`` command line: the only part of skfashion that prints."""

import argparse
import sys

from .._version import __version__
from . import _data, _export, _predict, _serve, report, tune

__all__ = ["main"]

_COMMANDS = [_data, report, tune, _predict, _serve, _export]


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit code 2, no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _build_parser():
    parser = _Parser(
        prog="skfashion",
        description=(
            "Train and evaluate scikit-learn style neural networks on Fashion-MNIST."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"skfashion {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in _COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv=None):
    """Run the command line; return the exit code.

    Examples
    --------
    >>> from skfashion.cli import main
    >>> main(["--version"])  # doctest: +SKIP
    skfashion 0.1.0
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args, parser) or 0
    except KeyboardInterrupt:
        print("skfashion: interrupted", file=sys.stderr)
        return 130
