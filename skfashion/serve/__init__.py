"""Serving: a fitted model behind HTTP and a web page.

:func:`make_app` builds the application that ``skfashion serve`` runs: a
page where a person drops photos, ``/predict`` for picture uploads, the
Open Inference Protocol (v2) that KServe, Triton and MLServer clients
speak, and Prometheus metrics. :class:`DynamicBatcher` lets concurrent
requests share calls of the model; :func:`guarded_protocol` bounds what a
connection may cost uvicorn (:class:`ConnectionLimits`). Needs the
``serve`` extra: ``pip install "skfashion[serve]"``. :class:`KServeModel`
answers the same protocol in KServe's own model server (the ``kserve``
extra; imported when first used).
"""

from ._batcher import DynamicBatcher, Overloaded
from ._limits import LIMITS, check_limits

try:
    from ._app import make_app
    from ._protocol import ConnectionLimits, guarded_protocol
except ImportError as exc:  # FastAPI, uvicorn, ... are an extra
    _missing = exc

    def _needs_the_extra(*args, **kwargs):
        """Needs the serve extra (see the module's docstring)."""
        raise ImportError(
            f'skfashion.serve needs the serve extra: pip install "skfashion[serve]" '
            f"({_missing})"
        )

    make_app = ConnectionLimits = guarded_protocol = _needs_the_extra


def __getattr__(name):
    if name == "KServeModel":  # imports kserve: only when asked for
        try:
            from ._kserve import KServeModel
        except ImportError as exc:
            raise ImportError(
                "skfashion.serve.KServeModel needs the kserve extra: pip install "
                f'"skfashion[kserve]" ({exc})'
            ) from None
        return KServeModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LIMITS",
    "ConnectionLimits",
    "DynamicBatcher",
    "KServeModel",
    "Overloaded",
    "check_limits",
    "guarded_protocol",
    "make_app",
]
