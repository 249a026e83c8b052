"""What the commands share: their arguments, their signals, their
messages. Imports nothing heavy, so that ``--help`` stays quick."""

from skfashion.utils import interruptible, signals_to

from ._args import (
    ArgumentError,
    add_machine_arguments,
    add_model_argument,
    check_device,
)
from ._progress import ClosesBar

__all__ = [
    "ArgumentError",
    "ClosesBar",
    "add_machine_arguments",
    "add_model_argument",
    "check_device",
    "interruptible",
    "signals_to",
]
