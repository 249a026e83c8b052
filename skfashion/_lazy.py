"""Public names imported when first used (PEP 562), for the subpackages
whose ``__init__`` lists them as ``_MODULES`` (name -> module): ``import
skfashion.utils`` costs nothing, ``skfashion.utils.cpu_name`` imports what
it needs."""

import importlib
import sys

__all__ = ["attach"]


def attach(package, modules):
    """``(__getattr__, __dir__)`` of ``package`` (its ``__name__``), which
    imports each name of ``modules`` from its module once."""

    def __getattr__(name):
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(modules[name], package), name)
        setattr(sys.modules[package], name, value)  # imported once
        return value

    def __dir__():
        return sorted({*vars(sys.modules[package]), *modules})

    return __getattr__, __dir__
