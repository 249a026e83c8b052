"""Tuning with Optuna: default search spaces and a pruned, cross-validated
objective (``PrunedCV``) for any skfashion classifier. ``skfashion tune`` is
built on these; Optuna is imported when they are called (the ``tune``
extra)."""

import importlib

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


def __getattr__(name):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
