"""Serving: a fitted model behind HTTP and a web page.

:func:`run` serves a model until a signal stops it, as ``skfashion serve``
does (and as a container's entry point may), from one
:class:`ServeSettings`: where to listen, the token, the hosts answered and
every limit. :func:`make_app` builds its application: a page where a
person drops photos, ``/predict`` for picture uploads, the Open Inference
Protocol (v2) that KServe, Triton and MLServer clients speak, and
Prometheus metrics. :class:`DataPlane` is that protocol over one model,
for any transport: ``make_app``'s routes and :class:`KServeModel` both call
it. :class:`DynamicBatcher` lets concurrent requests share
calls of the model; :func:`guarded_protocol` bounds what a connection may
cost uvicorn (:class:`ConnectionLimits`). Needs the ``serve`` extra: ``pip
install "skfashion[serve]"``. :class:`KServeModel` answers the same
protocol in KServe's own model server (the ``kserve`` extra; imported when
first used). The names are imported when first used: the settings, which
the command line builds its flags from, need neither FastAPI nor PyTorch.
"""

import importlib
import sys

#: each public name -> its module, and the extra its imports need
_MODULES = {
    "ConnectionLimits": ("._protocol", "serve"),
    "DataPlane": ("._dataplane", "serve"),
    "DynamicBatcher": ("._batcher", "serve"),
    "InferenceRequest": ("._dataplane", "serve"),
    "KServeModel": ("._kserve", "kserve"),
    "LIMITS": ("._settings", None),
    "Option": ("._settings", None),
    "Overloaded": ("._batcher", "serve"),
    "ServeSettings": ("._settings", None),
    "check_limits": ("._settings", None),
    "connection_limits": ("._server", None),
    "guarded_protocol": ("._protocol", "serve"),
    "make_app": ("._app", "serve"),
    "options": ("._settings", None),
    "run": ("._server", None),
    "settings_from_options": ("._settings", None),
}

__all__ = sorted(_MODULES)


def __getattr__(name):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, extra = _MODULES[name]
    try:
        value = getattr(importlib.import_module(module, __name__), name)
    except ImportError as exc:
        if extra is None:
            raise
        raise ImportError(
            f"skfashion.serve.{name} needs the {extra} extra: pip install "
            f'"skfashion[{extra}]" ({exc})'
        ) from None
    setattr(sys.modules[__name__], name, value)  # imported once
    return value


def __dir__():
    return sorted({*globals(), *_MODULES})
