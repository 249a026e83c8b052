"""Tuning with Optuna: default search spaces and a pruned, cross-validated
objective (``PrunedCV``) for any skfashion classifier. ``skfashion tune`` is
built on these; Optuna is imported when they are called (the ``tune``
extra)."""

from ._pruned_cv import (
    DEFAULT_SPACES,
    PrunedCV,
    distributions,
    fold_epochs,
    read_space,
)

__all__ = [
    "DEFAULT_SPACES",
    "PrunedCV",
    "distributions",
    "fold_epochs",
    "read_space",
]
