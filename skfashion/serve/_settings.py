"""Everything a server is told, as one value: :class:`ServeSettings`.

Each setting is spelled once, as a field: its default, and in its metadata
its range, the unit the command line counts it in, and its help. From the
fields come :func:`make_app`'s arguments, the connection limits, the
checks (:data:`LIMITS`, :func:`check_limits`), ``skfashion serve``'s flags
(:func:`options`) and the settings reference of the docs. Imports nothing
heavy: the command line builds its flags from it.
"""

import dataclasses
import importlib.util
import numbers
import os
import resource
import socket
from dataclasses import dataclass, field

__all__ = [
    "LIMITS",
    "Option",
    "ServeSettings",
    "check_limits",
    "options",
    "settings_from_options",
]

ENGINES = ("skfashion", "kserve")
TOKEN_VARIABLE = "SKFASHION_SERVE_TOKEN"


@dataclass(frozen=True)
class _Rule:
    low: float
    high: float | None = None
    integer: bool = True
    low_open: bool = False


def _setting(default, help, *, flag=None, metavar=None, unit=None, scale=1, **rule):
    """A field of :class:`ServeSettings`: its default, and in its metadata
    its help, how the command line names it (``flag``; by default the
    field's name with dashes), counts it (``value / scale``, in ``unit``)
    and, for a limit, its range (``rule``: low, high, integer, low_open)."""
    meta = {"help": help, "flag": flag, "metavar": metavar, "unit": unit}
    meta["scale"] = scale
    if rule:
        meta["rule"] = _Rule(**rule)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ServeSettings:
    """How a server serves a model: its address, its security and every
    limit of what a request or a connection may cost.

    One value for :func:`make_app` (which reads what the application needs)
    and :func:`run` (which also binds, bounds the connections and handles
    the signals); ``skfashion serve`` builds one from its flags, which are
    derived from these fields. The values are checked when it is made, and
    an error names the field at fault. The docs' settings reference lists
    each field with its range and its flag.

    Parameters
    ----------
    name : str, default="skfashion"
        The model's name in the v2 routes (``/v2/models/{name}``).
    token : str, default=None
        If given, every route but the health checks and the pages (which
        hold no model data) needs ``Authorization: Bearer <token>``; an
        empty one is refused (it would read as none).
    allowed_hosts : tuple of str, default=None
        The ``Host`` headers (names or addresses, without the port) to
        answer; another is answered 400 (a DNS rebinding attack sends its
        own). None: the address listened on, ``localhost``, ``127.0.0.1``
        and ``[::1]`` (with ``host`` ``0.0.0.0``, the machine's names too);
        ``"*"`` in it: any. A browser's request from another site is refused
        (403) whatever it is.
    host : str, default="127.0.0.1"
        The address :func:`run` listens on (``0.0.0.0``: every interface).
    port : int, default=8000
        Its port; 0: any free one.
    grpc_port : int, default=8081
        KServe's gRPC port (``engine="kserve"``).
    engine : {"skfashion", "kserve"}, default="skfashion"
        The server :func:`run` starts: skfashion's own, or KServe's
        ``ModelServer`` (the ``kserve`` extra; v2 over REST and gRPC, on
        every interface, without the page, ``/predict`` or a token).
    access_log : bool, default=False
        Log every request.
    max_upload_bytes, max_images, max_batch, max_delay, max_pixels,
    max_request_pixels, max_pixels_per_byte, max_queue, queue_timeout, picture_workers,
    picture_timeout, max_connections, max_client_connections, idle_timeout,
    request_timeout, max_head_bytes, max_headers
        The limits: see :data:`LIMITS` and the settings reference for each
        one's meaning, default and range.

    Examples
    --------
    >>> from skfashion.serve import ServeSettings
    >>> settings = ServeSettings(max_images=4, max_batch=32)
    >>> settings.max_images, settings.port
    (4, 8000)
    >>> ServeSettings(max_images=0)
    Traceback (most recent call last):
    ...
    ValueError: max_images must be a positive integer, got 0
    """

    name: str = _setting("skfashion", "the model's name in /v2", metavar="NAME")
    token: str | None = _setting(
        None,
        f"bearer token every model route needs (default: ${TOKEN_VARIABLE}; an "
        "empty one is refused)",
    )
    allowed_hosts: tuple | None = _setting(
        None,
        "a Host header to answer, repeatable; '*': any (default: the address "
        "listened on, localhost, 127.0.0.1 and [::1]; with --host 0.0.0.0 the "
        "machine's names too)",
        flag="--allowed-host",
        metavar="HOST",
    )
    host: str = _setting("127.0.0.1", "address to listen on (0.0.0.0: every interface)")
    port: int = _setting(8000, "port to listen on; 0: any free port", low=0, high=65535)
    grpc_port: int = _setting(
        8081, "with --engine kserve: the gRPC port", low=1, high=65535
    )
    engine: str = _setting(
        "skfashion",
        "the server: skfashion's own, or KServe's ModelServer (the kserve extra: "
        "v2 over REST on --port and gRPC on --grpc-port, on every interface, "
        "without the page, /predict or the token)",
    )
    access_log: bool = _setting(False, "log every request")
    # the limits: what one request or connection may cost
    max_upload_bytes: int = _setting(
        10 * 2**20,
        "largest request body",
        flag="--max-upload-mb",
        unit="MB",
        scale=2**20,
        low=0,
        high=2**30,
        low_open=True,
    )
    max_images: int = _setting(16, "images in one request", low=1)
    max_batch: int = _setting(64, "images in one call of the model", low=1)
    max_delay: float = _setting(
        0.0,
        "how long a batch waits for more requests (0: it takes those waiting "
        "while the model ran)",
        flag="--batch-delay-ms",
        unit="ms",
        scale=1e-3,
        low=0,
        high=1,
        integer=False,
    )
    max_pixels: int = _setting(
        25_000_000,
        "largest picture, width times height, judged from its header before "
        "decoding (and no side over 16,384)",
        low=1,
    )
    max_request_pixels: int = _setting(
        50_000_000,
        "the pixels of all a request's pictures together, judged from their "
        "headers before any is decoded",
        low=1,
    )
    max_pixels_per_byte: int = _setting(
        256,
        "pixels a picture of over 1,048,576 may hold per byte of its file, "
        "judged from its header (decoding costs ~16 bytes a pixel: a 1 KB "
        "WebP of 25 Mpx would cost 400 MB; photos hold a few pixels a byte)",
        low=1,
    )
    max_queue: int = _setting(
        4096, "images waiting for the model (then 503 at once)", low=1
    )
    queue_timeout: float = _setting(
        10.0,
        "seconds a request may wait for the model (then 503, not computed)",
        unit="s",
        low=0,
        high=3600,
        integer=False,
        low_open=True,
    )
    picture_workers: int | None = _setting(
        None,
        "threads decoding pictures (default: the CPUs, at most 4)",
        low=1,
        high=64,
    )
    picture_timeout: float = _setting(
        10.0,
        "seconds a request's pictures may take to decode from its arrival",
        unit="s",
        low=0,
        high=3600,
        integer=False,
        low_open=True,
    )
    max_connections: int | None = _setting(
        None,
        "open connections (default: 1000, fewer if the open-file limit is lower)",
        low=1,
    )
    max_client_connections: int | None = _setting(
        None,
        "open connections of one client address (default: a quarter of "
        "--max-connections; behind a proxy, whose clients share its address, "
        "raise it to --max-connections)",
        low=1,
    )
    idle_timeout: float = _setting(
        5.0,
        "seconds a connection may stay open without a request",
        unit="s",
        low=0,
        high=3600,
        integer=False,
        low_open=True,
    )
    request_timeout: float = _setting(
        30.0,
        "seconds a request may take to arrive, headers and body",
        unit="s",
        low=0,
        high=3600,
        integer=False,
        low_open=True,
    )
    max_head_bytes: int = _setting(
        16384,
        "largest request line and headers together",
        flag="--max-header-kb",
        unit="KB",
        scale=1024,
        low=1024,
        high=2**20,
    )
    max_headers: int = _setting(100, "headers in one request", low=8, high=10000)

    def __post_init__(self):
        hosts = self.allowed_hosts
        if isinstance(hosts, str):
            hosts = (hosts,)
        if hosts is not None:
            object.__setattr__(self, "allowed_hosts", tuple(hosts))
        self._check()

    def _check(self, names=None):
        """Raise a ``ValueError`` naming the first setting out of its range
        (named as ``names`` says: the command line's flags and units)."""
        token = self.token
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise ValueError(f"token must be a non-empty string or None, got {token!r}")
        if self.engine not in ENGINES:
            raise ValueError(
                f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            )
        for name in ("name", "host"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a string, got {getattr(self, name)!r}")
        checked = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if "rule" in f.metadata and getattr(self, f.name) is not None
        }
        check_limits(checked, names=names)

    def check_engine(self):
        """Raise if the engine cannot serve with these settings: an
        ``ImportError`` naming its extra if it is not installed, a
        ``ValueError`` naming the settings KServe's ``ModelServer`` cannot
        apply (it listens on every interface, without a token, a Host check
        or connection limits) or ports it cannot use.

        Examples
        --------
        >>> from skfashion.serve import ServeSettings
        >>> ServeSettings(engine="kserve", token="s3cret").check_engine()
        Traceback (most recent call last):
        ...
        ValueError: KServe's ModelServer cannot apply token: ...
        """
        if self.engine == "skfashion":
            return _require("serve", "fastapi", "uvicorn")
        problems = _kserve_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        _require("kserve", "kserve")

    def hosts(self):
        """The ``Host`` headers answered: ``allowed_hosts``, or by default
        the address listened on and this machine's own names."""
        if self.allowed_hosts is not None:
            return list(self.allowed_hosts)
        return _default_hosts(self.host)


#: the limits of ServeSettings that bound a connection, not a request
CONNECTION_LIMITS = (
    "max_connections",
    "max_client_connections",
    "idle_timeout",
    "request_timeout",
    "max_head_bytes",
    "max_headers",
)

#: Each setting of :class:`ServeSettings` that has a range (its limits, and
#: the ports): the values it may take.
LIMITS = {
    f.name: f.metadata["rule"]
    for f in dataclasses.fields(ServeSettings)
    if "rule" in f.metadata
}


def check_limits(limits, *, names=None):
    """Raise a ``ValueError`` naming the first limit out of its range.

    Parameters
    ----------
    limits : dict
        Settings of :class:`ServeSettings` that have a range, by name.
    names : dict, default=None
        How the caller names a setting, and the unit it counts in: ``name ->
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
        if not rule.integer and (
            isinstance(value, bool) or not isinstance(value, numbers.Real)
        ):
            raise ValueError(f"{label} must be a number, got {value!r}")
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


@dataclass(frozen=True)
class Option:
    """A setting as a command-line option: ``parser.add_argument(flag,
    **kwargs)`` adds it, and :meth:`value` turns what it was given into the
    setting's value (``given * scale``)."""

    name: str
    flag: str
    kwargs: dict
    scale: float = 1
    integer: bool = False

    def value(self, given):
        """The setting's value from what the option was given."""
        if given is None or self.scale == 1:
            return given
        value = given * self.scale
        return round(value) if self.integer else value


def options():
    """Every setting of :class:`ServeSettings` as a command-line option, in
    the command line's units, with its default and help.

    Examples
    --------
    >>> from skfashion.serve import options
    >>> upload = {o.name: o for o in options()}["max_upload_bytes"]
    >>> upload.flag, upload.kwargs["default"], upload.value(1.5)
    ('--max-upload-mb', 10.0, 1572864)
    """
    return [_option(f) for f in dataclasses.fields(ServeSettings)]


def _option(f):
    meta, scale, default = f.metadata, f.metadata["scale"], f.default
    rule = meta.get("rule")
    kwargs = {"help": _help(f)}
    if isinstance(default, bool):
        kwargs["action"] = "store_true"
    elif f.name == "allowed_hosts":
        kwargs |= {"action": "append", "metavar": meta["metavar"]}
    else:
        kind = str if rule is None else int if rule.integer and scale == 1 else float
        if f.name == "token":
            default = os.environ.get(TOKEN_VARIABLE)
        elif default is not None and scale != 1:
            default = default / scale
        kwargs |= {"type": kind, "default": default}
        metavar = (
            meta["metavar"]
            or (meta["unit"] or "").upper()
            or ("N" if kind is int else None)
        )
        if f.name == "engine":
            kwargs["choices"] = ENGINES
        elif metavar:
            kwargs["metavar"] = metavar
    flag = meta["flag"] or "--" + f.name.replace("_", "-")
    integer = rule is not None and rule.integer
    return Option(f.name, flag, kwargs, scale, integer)


def _help(f):
    """A field's help, with its default in the command line's unit."""
    meta, default = f.metadata, f.default
    text = meta["help"]
    if default is not None and not isinstance(default, bool) and "(default" not in text:
        shown = default / meta["scale"] if meta["scale"] != 1 else default
        if isinstance(shown, float):
            shown = f"{shown:g}"
        elif isinstance(shown, int) and shown >= 10000:
            shown = f"{shown:,}"
        text = f"{text} (default: {shown})"
    return text.replace("%", "%%")  # argparse formats help with %


def settings_from_options(namespace):
    """The :class:`ServeSettings` of parsed command-line options (those of
    :func:`options`); an error names the option at fault, in its unit."""
    found = [o for o in options() if hasattr(namespace, o.name)]
    values = {o.name: o.value(getattr(namespace, o.name)) for o in found}
    token = values.get("token")
    if token is not None and not token.strip():
        raise ValueError(
            f"the token (--token or ${TOKEN_VARIABLE}) is empty: give one, or "
            "unset it to serve without"
        )
    limits = {k: v for k, v in values.items() if k in LIMITS and v is not None}
    check_limits(limits, names={o.name: (o.flag, o.scale) for o in found})
    return ServeSettings(**values)


def _require(extra, *modules):
    """An ImportError naming ``extra`` if one of ``modules`` is missing."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise ImportError(
                f'{module}: pip install "skfashion[{extra}]"', name=module
            )


#: what KServe's ModelServer cannot do: the settings it refuses, by name,
#: unless left at their defaults
_NOT_IN_KSERVE = (
    "token",
    "allowed_hosts",
    "max_upload_bytes",
    "max_batch",
    "max_delay",
    "max_pixels",
    "max_request_pixels",
    "max_pixels_per_byte",
    "max_queue",
    "queue_timeout",
    "picture_workers",
    "picture_timeout",
    "max_connections",
    "max_client_connections",
    "idle_timeout",
    "request_timeout",
    "max_head_bytes",
    "max_headers",
    "access_log",
)


def _kserve_problems(settings):
    """What ``engine="kserve"`` cannot apply of ``settings``: the names of
    the settings it would ignore (KServe's ``ModelServer`` listens on every
    interface, has no token, Host check or connection limits), and ports
    it cannot use."""
    defaults = ServeSettings()
    given = [
        name
        for name in _NOT_IN_KSERVE
        if getattr(settings, name) != getattr(defaults, name)
    ]
    if settings.host not in (defaults.host, "0.0.0.0", "::"):
        given.insert(0, "host")
    problems = []
    if given:
        problems.append(
            f"KServe's ModelServer cannot apply {', '.join(given)}: it listens on "
            "every interface, without authentication (KServe leaves it to the "
            "cluster's ingress), a Host check or connection limits"
        )
    if not 1 <= settings.port <= 65535:
        problems.append(f"port must be in [1, 65535] with KServe, got {settings.port}")
    if settings.port == settings.grpc_port:
        problems.append("port and grpc_port must differ")
    return problems


def _default_hosts(host):
    """The Host headers a server on ``host`` answers by default: its own
    address and this machine's names (a DNS rebinding attack sends another
    name)."""
    hosts = ["localhost", "127.0.0.1", "[::1]"]
    if host not in ("0.0.0.0", "::", ""):
        hosts.append(f"[{host}]" if ":" in host else host)
    else:  # every address: the machine's own names too
        hosts += [socket.gethostname(), socket.getfqdn()]
    return list(dict.fromkeys(hosts))


def _default_connections():
    """Most connections open at once: 1,000, or what the open-file limit
    leaves room for (raised to its hard limit first, as servers do), less
    64 files for the model, the logs and the server itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return max(1, min(1000, soft - 64))
