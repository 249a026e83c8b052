"""``skfashion serve``: a saved model behind HTTP and a web page."""

import gc
import ipaddress
import os
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

    @classmethod
    def from_args(cls, args):
        app = {
            "name": args.name,
            "token": args.token or None,
            "max_upload_bytes": int(args.max_upload_mb * 2**20),
            "max_images": args.max_images,
            "max_batch": args.max_batch,
            "max_delay": args.batch_delay_ms / 1000,
        }
        return cls(
            args.model, args.allow_pickle, args.host, args.port, args.access_log, app
        )

    @property
    def limits(self):
        return {k: v for k, v in self.app.items() if k in FLAGS}


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
        help=f"bearer token every model route needs (default: ${TOKEN_VARIABLE})",
    )
    p.add_argument(
        "--max-upload-mb",
        type=float,
        default=10.0,
        metavar="MB",
        help="largest request body (default: 10)",
    )
    p.add_argument(
        "--max-images", type=int, default=16, metavar="N", help="per request (16)"
    )
    p.add_argument(
        "--max-batch", type=int, default=64, metavar="N", help="per model call (64)"
    )
    p.add_argument(
        "--batch-delay-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="how long a batch waits for more requests (default: 0, only "
        "those waiting while the model ran)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(run=run)
    return p


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
    config = ServeConfig.from_args(args)
    try:
        import uvicorn  # noqa: F401

        from skfashion.io import load_predictor
        from skfashion.serve import check_limits, make_app

        check_limits(config.limits, names=FLAGS)
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

    server_config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=config.access_log,
        timeout_graceful_shutdown=30,
        lifespan="on",
    )
    server = _server(server_config, lambda: _started(url, config.app["name"]))
    with sock:
        server.run(sockets=[sock])
    _say("stopped")
    return 0
