"""The server's limits and their one check, for :func:`make_app` and the
command line alike (which names them by its flags, in its own units)."""

import numbers
from dataclasses import dataclass

__all__ = ["LIMITS", "check_limits"]


@dataclass(frozen=True)
class _Rule:
    low: float
    high: float | None = None
    integer: bool = True
    low_open: bool = False


#: Each limit of :func:`make_app` and of :class:`ConnectionLimits`: the
#: values it may take.
LIMITS = {
    "max_upload_bytes": _Rule(0, 2**30, low_open=True),
    "max_images": _Rule(1),
    "max_batch": _Rule(1),
    "max_delay": _Rule(0, 1, integer=False),
    "max_pixels": _Rule(1),
    "max_queue": _Rule(1),
    "queue_timeout": _Rule(0, 3600, integer=False, low_open=True),
    "picture_workers": _Rule(1, 64),
    "picture_timeout": _Rule(0, 3600, integer=False, low_open=True),
    "max_connections": _Rule(1),
    "idle_timeout": _Rule(0, 3600, integer=False, low_open=True),
    "request_timeout": _Rule(0, 3600, integer=False, low_open=True),
    "max_head_bytes": _Rule(1024, 2**20),
    "max_headers": _Rule(8, 10000),
}


def check_limits(limits, *, names=None):
    """Raise a ``ValueError`` naming the first limit out of its range.

    Parameters
    ----------
    limits : dict
        Limits of :data:`LIMITS` by name, as :func:`make_app` takes them.
    names : dict, default=None
        How the caller names a limit, and the unit it counts in: ``name ->
        (shown name, scale)``, the value shown being ``value / scale``
        (``--max-upload-mb`` counts in MiB: ``("--max-upload-mb", 2**20)``).

    Examples
    --------
    >>> from skfashion.serve import check_limits
    >>> check_limits({"max_images": 16, "max_batch": 64})
    >>> check_limits({"max_delay": 5})
    Traceback (most recent call last):
    ...
    ValueError: max_delay must be in [0, 1], got 5
    """
    names = names or {}

    def shown(name):
        return names.get(name, (name, 1))

    for name, value in limits.items():
        rule = LIMITS[name]
        label, scale = shown(name)
        positive = rule.integer and rule.high is None
        if rule.integer and (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or (positive and value < 1)
        ):
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
        too_low = value <= rule.low if rule.low_open else value < rule.low
        too_high = rule.high is not None and value > rule.high
        if too_low or too_high:
            raise ValueError(
                f"{label} must be in {_interval(rule, scale)}, got "
                f"{_value(value, scale)}"
            )
    images, batch = limits.get("max_images"), limits.get("max_batch")
    if images is not None and batch is not None and images > batch:
        raise ValueError(
            f"{shown('max_images')[0]} ({images}) must not exceed "
            f"{shown('max_batch')[0]} ({batch}): a request's images go to the "
            "model together"
        )
    queue = limits.get("max_queue")
    if queue is not None and batch is not None and queue < batch:
        raise ValueError(
            f"{shown('max_queue')[0]} ({queue}) must be at least "
            f"{shown('max_batch')[0]} ({batch}): a batch comes from the queue"
        )


def _value(value, scale):
    return value if scale == 1 else value / scale


def _interval(rule, scale):
    return (
        f"{'(' if rule.low_open else '['}{rule.low / scale:g}, {rule.high / scale:g}]"
    )
