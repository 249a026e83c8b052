"""``skfashion serve``: a saved model behind HTTP and a web page."""

import gc
import ipaddress
import logging
import os
import resource
import socket
import sys
from dataclasses import dataclass

from ._common import add_model_argument, signals_to

HELP = "serve a saved model: a web page, /predict, the v2 inference protocol"
TOKEN_VARIABLE = "SKFASHION_SERVE_TOKEN"


#: make_app's limits as the command line names them, in its units
FLAGS = {
    "max_upload_bytes": ("--max-upload-mb", 2**20),
    "max_images": ("--max-images", 1),
    "max_batch": ("--max-batch", 1),
    "max_delay": ("--batch-delay-ms", 1e-3),
    "max_queue": ("--max-queue", 1),
    "queue_timeout": ("--queue-timeout", 1),
    "picture_workers": ("--picture-workers", 1),
    "picture_timeout": ("--picture-timeout", 1),
}
#: the connections' limits (ConnectionLimits) as the command line names them
CONNECTION_FLAGS = {
    "max_connections": ("--max-connections", 1),
    "idle_timeout": ("--idle-timeout", 1),
    "request_timeout": ("--request-timeout", 1),
    "max_head_bytes": ("--max-header-kb", 1024),
    "max_headers": ("--max-headers", 1),
}


@dataclass(frozen=True)
class ServeConfig:
    """What ``skfashion serve`` was asked for: where to listen, and the
    keyword arguments of :func:`skfashion.serve.make_app`."""

    model: str
    allow_pickle: bool
    host: str
    port: int
    access_log: bool
    app: dict
    connections: dict

    @classmethod
    def from_args(cls, args):
        app = {
            "name": args.name,
            "token": args.token,
            "allowed_hosts": args.allowed_host or _default_hosts(args.host),
            "max_upload_bytes": int(args.max_upload_mb * 2**20),
            "max_images": args.max_images,
            "max_batch": args.max_batch,
            "max_delay": args.batch_delay_ms / 1000,
            "max_queue": args.max_queue,
            "queue_timeout": args.queue_timeout,
            "picture_workers": args.picture_workers,
            "picture_timeout": args.picture_timeout,
        }
        connections = {
            "max_connections": (
                _default_connections()
                if args.max_connections is None
                else args.max_connections
            ),
            "idle_timeout": args.idle_timeout,
            "request_timeout": args.request_timeout,
            "max_head_bytes": int(args.max_header_kb * 1024),
            "max_headers": args.max_headers,
        }
        return cls(
            args.model,
            args.allow_pickle,
            args.host,
            args.port,
            args.access_log,
            app,
            connections,
        )

    @property
    def limits(self):
        limits = {k: v for k, v in self.app.items() if k in FLAGS}
        if limits["picture_workers"] is None:
            del limits["picture_workers"]
        return {**limits, **self.connections}


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


#: the limits' options: flag, type, default, metavar, help
LIMIT_OPTIONS = [
    ("--max-upload-mb", float, 10.0, "MB", "largest request body (default: 10)"),
    ("--max-images", int, 16, "N", "per request (16)"),
    ("--max-batch", int, 64, "N", "per model call (64)"),
    (
        "--batch-delay-ms",
        float,
        0.0,
        "MS",
        "how long a batch waits for more requests (default: 0, only those "
        "waiting while the model ran)",
    ),
    ("--max-queue", int, 4096, "N", "images waiting for the model (default: 4096)"),
    (
        "--queue-timeout",
        float,
        10.0,
        "S",
        "seconds a request may wait for the model before 503 (default: 10)",
    ),
    (
        "--picture-workers",
        int,
        None,
        "N",
        "threads decoding pictures (default: the CPUs, at most 4)",
    ),
    (
        "--picture-timeout",
        float,
        10.0,
        "S",
        "seconds a request's pictures may take to decode (default: 10)",
    ),
    (
        "--max-connections",
        int,
        None,
        "N",
        "open connections (default: 1000, fewer if the open-file limit is lower)",
    ),
    (
        "--idle-timeout",
        float,
        5.0,
        "S",
        "seconds a connection may stay open without a request (default: 5)",
    ),
    (
        "--request-timeout",
        float,
        30.0,
        "S",
        "seconds a request may take to arrive, headers and body (default: 30)",
    ),
    (
        "--max-header-kb",
        float,
        16.0,
        "KB",
        "largest request line and headers together (default: 16)",
    ),
    ("--max-headers", int, 100, "N", "most headers in a request (default: 100)"),
]


def add_parser(sub):
    p = sub.add_parser("serve", help=HELP, description=HELP + ".")
    add_model_argument(p)
    p.add_argument(
        "--name",
        default="skfashion",
        help="the model's name in /v2 (default: skfashion)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    p.add_argument(
        "--port", type=int, default=8000, help="default: 8000; 0: any free port"
    )
    p.add_argument(
        "--token",
        default=os.environ.get(TOKEN_VARIABLE),
        help=f"bearer token every model route needs (default: ${TOKEN_VARIABLE}; "
        "an empty one is refused)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        metavar="HOST",
        help="a Host header to answer, repeatable; '*': any (default: the "
        "address listened on, localhost, 127.0.0.1 and [::1]; with --host "
        "0.0.0.0 the machine's names too)",
    )
    limits = p.add_argument_group(
        "limits", "what one request or connection may cost (see the Serving page)"
    )
    for flag, kind, default, metavar, text in LIMIT_OPTIONS:
        limits.add_argument(
            flag, type=kind, default=default, metavar=metavar, help=text
        )
    p.add_argument("--access-log", action="store_true", help="log every request")
    _add_engine_arguments(p)
    p.set_defaults(run=run)
    return p


def _add_engine_arguments(p):
    p.add_argument(
        "--engine",
        choices=("skfashion", "kserve"),
        default="skfashion",
        help="the server: skfashion's own (default), or KServe's ModelServer "
        "(the kserve extra: v2 over REST on --port and gRPC on --grpc-port, "
        "on every interface, without the page, /predict, the token or the limits)",
    )
    p.add_argument(
        "--grpc-port",
        type=int,
        default=8081,
        help="with --engine kserve: the gRPC port (default: 8081)",
    )


def _say(message):
    print(f"skfashion serve: {message}", flush=True)


def _error(message):
    print(f"skfashion serve: error: {message}", file=sys.stderr, flush=True)
    return 2


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def run(args, parser):
    if args.engine == "kserve":
        return _run_kserve(args)
    config = ServeConfig.from_args(args)
    try:
        import uvicorn  # noqa: F401

        from skfashion.io import load_predictor
        from skfashion.serve import check_limits, make_app

        check_limits(config.limits, names=FLAGS | CONNECTION_FLAGS)
        if config.app["token"] is not None and not config.app["token"].strip():
            raise ValueError(
                f"the token (--token or ${TOKEN_VARIABLE}) is empty: give one, "
                "or unset it to serve without"
            )
        if not 0 <= config.port <= 65535:
            raise ValueError(f"--port must be in [0, 65535], got {config.port}")
        predictor = load_predictor(
            config.model,
            allow_pickle=config.allow_pickle,
            warn=lambda m: _say(f"warning: {m}"),
            spinning=False,
        )
        app = make_app(predictor, **config.app)
    except ImportError as exc:
        return _error(f'{exc.name or exc}: pip install "skfashion[serve]"')
    except (ValueError, TypeError) as exc:
        return _error(str(exc))
    try:
        sock = _bind(config.host, config.port)
    except (OSError, OverflowError) as exc:
        return _error(f"cannot listen on {config.host}:{config.port} ({exc})")
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if not _loopback(config.host):
        who = "anyone" if config.app["token"] else "anyone, with no token,"
        _say(
            f"warning: listening on {config.host}: {who} who can reach this "
            "machine can use the model"
        )
    name = config.app["name"]
    _say(f"serving {config.model} as {name!r}: {predictor.describe()}")
    return _serve(app, sock, f"http://{shown}:{port}", config)


def _server(config, on_started):
    """A uvicorn server that Ctrl-C and SIGTERM stop gracefully: requests in
    flight are answered, then ``serve`` returns 0 (uvicorn would re-raise
    the signal afterwards, making the exit code the signal's)."""
    import uvicorn

    class Server(uvicorn.Server):
        def capture_signals(self):
            return signals_to(self.handle_exit, ("SIGINT", "SIGTERM"))

        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                on_started()

    return Server(config)


def _started(url, name):
    # what exists now lives as long as this process: out of the garbage
    # collector's sight, so that its passes stay short under load (1.08x
    # the requests/s of the MLP at 32 clients)
    gc.collect()
    gc.freeze()
    _say(
        f"listening on {url} (the page: {url}/, v2: {url}/v2/models/{name}, "
        f"metrics: {url}/metrics); Ctrl-C stops"
    )


def _serve(app, sock, url, config):
    import uvicorn

    from skfashion.serve import ConnectionLimits, guarded_protocol

    limits = ConnectionLimits(**config.connections)
    server_config = uvicorn.Config(
        app,
        http=guarded_protocol(limits),
        log_level="warning",
        access_log=config.access_log,
        timeout_keep_alive=limits.idle_timeout,
        timeout_graceful_shutdown=30,
        lifespan="on",
    )
    if config.access_log:  # the warning level would silence it
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    server = _server(server_config, lambda: _started(url, config.app["name"]))
    with sock:
        server.run(sockets=[sock])
    _say("stopped")
    return 0


def _kserve_problem(args):
    """What ``--engine kserve`` cannot do with these arguments, or None."""
    if args.token is not None:
        return (
            "--engine kserve has no token: KServe leaves authentication to the "
            f"cluster's ingress (unset --token and ${TOKEN_VARIABLE})"
        )
    for name, port in (("--port", args.port), ("--grpc-port", args.grpc_port)):
        if not 1 <= port <= 65535:
            return f"{name} must be in [1, 65535] with --engine kserve, got {port}"
    if args.port == args.grpc_port:
        return "--port and --grpc-port must differ"
    return None


def _run_kserve(args):
    """``--engine kserve``: the model in KServe's own ModelServer."""
    problem = _kserve_problem(args)
    if problem:
        return _error(problem)
    from skfashion.io import load_predictor

    try:
        predictor = load_predictor(
            args.model,
            allow_pickle=args.allow_pickle,
            warn=lambda m: _say(f"warning: {m}"),
            spinning=False,
        )
    except ValueError as exc:
        return _error(str(exc))
    argv = sys.argv
    sys.argv = argv[:1]  # kserve reads its own flags from sys.argv on import
    try:
        from kserve import ModelServer

        from skfashion.serve import KServeModel
    except ImportError as exc:
        return _error(f'{exc.name or exc}: pip install "skfashion[kserve]"')
    finally:
        sys.argv = argv
    model = KServeModel(args.name, predictor, max_images=args.max_images)
    _say(f"serving {args.model} as {args.name!r}: {predictor.describe()}")
    _say(
        f"KServe's ModelServer listens on every interface: v2 REST on port "
        f"{args.port} (/v2/models/{args.name}/infer), gRPC on port "
        f"{args.grpc_port}; Ctrl-C or SIGTERM stops"
    )
    server = ModelServer(
        http_port=args.port,
        grpc_port=args.grpc_port,
        enable_docs_url=False,
        enable_latency_logging=False,
        grace_period=10,
    )
    server.start([model])
    _say("stopped")
    return 0
