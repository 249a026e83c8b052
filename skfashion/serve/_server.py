"""The server runtime: a model served until a signal stops it.

:func:`run` is what ``skfashion serve`` calls, and what a container's entry
point or a script may call: it binds, bounds the connections
(:func:`guarded_protocol`), serves :func:`make_app`'s application with
uvicorn (or the model in KServe's ``ModelServer``), and stops gracefully on
Ctrl-C or SIGTERM: requests in flight are answered, then it returns.
"""

import dataclasses
import gc
import ipaddress
import logging
import socket
import sys

from ..utils import signals_to
from ._settings import CONNECTION_LIMITS, ServeSettings, _default_connections

__all__ = ["connection_limits", "run"]

logger = logging.getLogger("skfashion.serve")
#: seconds requests in flight have to finish once a signal came
GRACE_SECONDS = 30


def run(model, settings=None, *, sock=None, on_start=None, warn=None, **overrides):
    """Serve ``model`` until Ctrl-C or SIGTERM, then return.

    With ``settings.engine == "skfashion"`` (the default), :func:`make_app`'s
    application runs in uvicorn, on ``settings.host`` and ``settings.port``
    (or on ``sock``), its connections bounded by the settings'
    :class:`ConnectionLimits`; with ``"kserve"``, the model runs in KServe's
    ``ModelServer`` (:class:`KServeModel`; v2 over REST and gRPC). A signal
    stops taking requests, lets those in flight finish, and returns (the
    handlers are installed only while serving, and only from the main
    thread).

    Parameters
    ----------
    model : fitted classifier or Predictor
        What :func:`make_app` serves (:func:`~skfashion.io.load_predictor`
        loads one from a file).
    settings : ServeSettings, default=None
        Where to listen, the token, the hosts and every limit.
    sock : socket.socket, default=None
        A socket already bound (and listening) to serve on, instead of
        binding ``settings.host`` and ``settings.port``.
    on_start : callable, default=None
        Called with the server's URL once it takes requests; by default
        the URL is logged (``skfashion.serve``, INFO).
    warn : callable, default=None
        Called with a warning before serving (a server others can reach,
        with or without a token); by default it is logged (WARNING).
    **overrides
        Fields of :class:`ServeSettings` that replace those of ``settings``.

    Raises
    ------
    ValueError
        For settings the engine cannot apply (KServe's listens on every
        interface and has no token, no Host check and no connection
        limits), naming them; for a model that cannot be served.
    ImportError
        If the engine's extra (``serve`` or ``kserve``) is not installed,
        naming it; raised before anything is bound.
    OSError
        If the address cannot be bound.

    Examples
    --------
    A container's entry point::

        from skfashion.io import load_predictor
        from skfashion.serve import run

        run(load_predictor("/models/fast"), host="0.0.0.0", token="s3cret")
    """
    settings = dataclasses.replace(settings or ServeSettings(), **overrides)
    warn = warn or logger.warning
    settings.check_engine()
    if settings.engine == "kserve":
        return _run_kserve(model, settings, on_start)
    import uvicorn

    from ._app import make_app
    from ._protocol import guarded_protocol

    app = make_app(model, settings)
    limits = connection_limits(settings)
    config = uvicorn.Config(
        app,
        http=guarded_protocol(limits),
        log_level="warning",
        access_log=settings.access_log,
        timeout_keep_alive=limits.idle_timeout,
        timeout_graceful_shutdown=GRACE_SECONDS,
        lifespan="on",
    )
    if settings.access_log:  # the warning level would silence it
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    sock = sock or _bind(settings.host, settings.port)
    host = sock.getsockname()[0]
    if not _is_loopback(host):
        who = "anyone" if settings.token else "anyone, with no token,"
        warn(f"listening on {host}: {who} who can reach this machine can use the model")
    url = _url(sock)
    with sock:
        _server(config, lambda: _started(url, on_start)).run(sockets=[sock])


def connection_limits(settings):
    """The :class:`ConnectionLimits` of a server with these settings; a
    ``max_connections`` of None is what the open-file limit leaves room for
    (at most 1,000), a ``max_client_connections`` of None a quarter of it.

    Examples
    --------
    >>> from skfashion.serve import ServeSettings, connection_limits
    >>> connection_limits(ServeSettings(max_connections=8)).max_connections
    8
    """
    from ._protocol import ConnectionLimits

    most = settings.max_connections or _default_connections()
    share = settings.max_client_connections or max(1, most // 4)
    return ConnectionLimits(
        max_connections=most,
        max_client_connections=share,
        **{name: getattr(settings, name) for name in CONNECTION_LIMITS[2:]},
    )


def _bind(host, port):
    """A socket listening on ``host`` and ``port`` (0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except (OSError, OverflowError) as exc:
        raise OSError(f"cannot listen on {host}:{port} ({exc})") from None


def _is_loopback(host):
    """Whether only this machine can reach an address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(sock):
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _server(config, on_started):
    """A uvicorn server that Ctrl-C and SIGTERM stop gracefully: requests in
    flight are answered, then ``run`` returns (uvicorn would re-raise the
    signal afterwards, making the exit code the signal's)."""
    import uvicorn

    class Server(uvicorn.Server):
        def capture_signals(self):
            return signals_to(self.handle_exit, ("SIGINT", "SIGTERM"))

        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                on_started()

    return Server(config)


def _started(url, on_start):
    # what exists now lives as long as this process: out of the garbage
    # collector's sight, so that its passes stay short under load (1.08x
    # the requests/s of the MLP at 32 clients)
    gc.collect()
    gc.freeze()
    if on_start is None:
        logger.info("listening on %s", url)
    else:
        on_start(url)


def _run_kserve(model, settings, on_start):
    from ..io import Predictor

    predictor = model if isinstance(model, Predictor) else Predictor(model)
    argv = sys.argv
    sys.argv = argv[:1]  # kserve reads its own flags from sys.argv on import
    try:
        from kserve import ModelServer
        from kserve.model_server import app

        from ._kserve import KServeModel, json_by_default
    finally:
        sys.argv = argv
    if json_by_default not in [m.cls for m in app.user_middleware]:
        app.add_middleware(json_by_default)  # Triton's client, JSON mode
    served = KServeModel(settings.name, predictor, max_images=settings.max_images)
    server = ModelServer(
        http_port=settings.port,
        grpc_port=settings.grpc_port,
        enable_docs_url=False,
        enable_latency_logging=False,
        grace_period=10,
    )
    url = f"http://0.0.0.0:{settings.port}"
    (on_start or (lambda u: logger.info("listening on %s", u)))(url)
    server.start([served])
