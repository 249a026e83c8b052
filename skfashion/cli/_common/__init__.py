"""What the commands share: their arguments, signals, durations, output
folders, and the run builder of the long commands (data, pipelines, their
speed). Imports nothing heavy, so that ``--help`` stays quick."""

from ._args import (
    ArgumentError,
    add_machine_arguments,
    add_model_argument,
    check_device,
)
from ._folders import keep_partial, make_workdir
from ._run import FashionData, RunBuilder, pct
from ._signals import interruptible, signals_to
from ._timing import format_duration, time_batches

__all__ = [
    "ArgumentError",
    "add_machine_arguments",
    "add_model_argument",
    "FashionData",
    "check_device",
    "format_duration",
    "interruptible",
    "keep_partial",
    "make_workdir",
    "pct",
    "RunBuilder",
    "signals_to",
    "time_batches",
]
