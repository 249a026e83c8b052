"""``skfashion serve``: a saved model behind HTTP and a web page."""

import contextlib
import gc
import ipaddress
import os
import signal
import socket
import sys

from ._common._models import add_model_argument, load_predictor

HELP = "serve a saved model: a web page, /predict, the v2 inference protocol"
TOKEN_VARIABLE = "SKFASHION_SERVE_TOKEN"


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


def _build(args, served_path):
    from skfashion.serve import make_app

    model = load_predictor(
        served_path, warn=lambda m: _say(f"warning: {m}"), spinning=False
    )
    return make_app(
        model,
        name=args.name,
        token=args.token or None,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        max_images=args.max_images,
        max_batch=args.max_batch,
        max_delay=args.batch_delay_ms / 1000,
    )


def _check(args):
    """The limits, named as the command line names them."""
    if not 0 < args.max_upload_mb <= 1024:
        return f"--max-upload-mb must be in (0, 1024], got {args.max_upload_mb}"
    if args.max_images < 1 or args.max_batch < args.max_images:
        return (
            f"--max-images must be at least 1 and at most --max-batch, got "
            f"{args.max_images} and {args.max_batch}"
        )
    if not 0 <= args.batch_delay_ms <= 1000:
        return f"--batch-delay-ms must be in [0, 1000], got {args.batch_delay_ms}"
    if not 0 <= args.port <= 65535:
        return f"--port must be in [0, 65535], got {args.port}"
    return None


def run(args, parser):
    problem = _check(args)
    if problem:
        return _error(problem)
    try:
        import uvicorn  # noqa: F401

        app = _build(args, args.model)
    except ImportError as exc:
        return _error(f'{exc.name or exc}: pip install "skfashion[serve]"')
    except (ValueError, TypeError) as exc:
        return _error(str(exc))
    try:
        sock = _bind(args.host, args.port)
    except (OSError, OverflowError) as exc:
        return _error(f"cannot listen on {args.host}:{args.port} ({exc})")
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if not _loopback(args.host):
        who = "anyone" if args.token else "anyone, with no token,"
        _say(
            f"warning: listening on {args.host}: {who} who can reach this machine "
            "can use the model"
        )
    _say(f"serving {args.model} as {args.name!r}: {app.state.served.describe()}")
    return _serve(app, sock, f"http://{shown}:{port}", args)


@contextlib.contextmanager
def _signals_to(handler):
    """Ctrl-C and SIGTERM call ``handler``; the previous handlers afterwards."""
    names = ("SIGINT", "SIGTERM")
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _server(config, on_started):
    """A uvicorn server that Ctrl-C and SIGTERM stop gracefully: requests in
    flight are answered, then ``serve`` returns 0 (uvicorn would re-raise
    the signal afterwards, making the exit code the signal's)."""
    import uvicorn

    class Server(uvicorn.Server):
        def capture_signals(self):
            return _signals_to(self.handle_exit)

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


def _serve(app, sock, url, args):
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=args.access_log,
        timeout_graceful_shutdown=30,
        lifespan="on",
    )
    server = _server(config, lambda: _started(url, args.name))
    with sock:
        server.run(sockets=[sock])
    _say("stopped")
    return 0
