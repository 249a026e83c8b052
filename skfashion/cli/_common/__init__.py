"""What the commands share: argument errors, signals, durations, output
folders, data and pipelines. Imports nothing heavy, so that ``--help`` stays
quick."""

from ._args import (
    ArgumentError,
    add_machine_arguments,
    add_model_argument,
    check_device,
)
from ._clock import format_duration, time_batches
from ._experiment import FashionData, load_data, pct, pipeline
from ._folders import keep_partial, make_workdir, move_files_into, move_into_place
from ._signals import interruptible, signals_to

__all__ = [
    "ArgumentError",
    "add_machine_arguments",
    "add_model_argument",
    "FashionData",
    "check_device",
    "format_duration",
    "interruptible",
    "keep_partial",
    "load_data",
    "make_workdir",
    "move_files_into",
    "move_into_place",
    "pct",
    "pipeline",
    "signals_to",
    "time_batches",
]
