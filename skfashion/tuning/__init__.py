"""Tuning with Optuna: default search spaces and a pruned, cross-validated
objective (``PrunedCV``) for any skfashion classifier. ``skfashion tune`` is
built on these; Optuna is imported when they are called (the ``tune``
extra)."""

from .._lazy import attach

# imported when first used: the command line reads a search space without
# waiting for scikit-learn
_MODULES = {
    "DEFAULT_SPACES": "._pruned_cv",
    "PrunedCV": "._pruned_cv",
    "distributions": "._pruned_cv",
    "fold_epochs": "._pruned_cv",
    "read_space": "._pruned_cv",
}

__all__ = sorted(_MODULES)

__getattr__, __dir__ = attach(__name__, _MODULES)
