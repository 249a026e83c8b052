"""Utilities: the machine, in-memory batches, atomic file writes.

What several parts of skfashion share and a user may want too: what the
machine is and which device and precision to train on, how many batches a
net makes of some data, writing a file whole or not at all, and stopping a
long run the same way whatever signal stops it. The names
are imported when first used, so that the data loaders and the command line
can use the light ones without importing PyTorch.
"""

from .._lazy import attach

_MODULES = {
    "ArrayLoader": "._loader",
    "PRECISIONS": "._hardware",
    "UnsupportedModelError": "._pipeline",
    "atomic_write": "._files",
    "batch_weights": "._loader",
    "bf16_supported": "._hardware",
    "cpu_detail": "._hardware",
    "cpu_name": "._hardware",
    "describe_machine": "._hardware",
    "first_images": "._loader",
    "interruptible": "._signals",
    "move_files_into": "._files",
    "move_into_place": "._files",
    "n_batches": "._loader",
    "resolve_device": "._hardware",
    "resolve_precision": "._hardware",
    "signals_to": "._signals",
    "split_pipeline": "._pipeline",
}

__all__ = sorted(_MODULES)

__getattr__, __dir__ = attach(__name__, _MODULES)
