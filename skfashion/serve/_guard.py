"""What every request passes through: the Host and Origin checks, the token,
the size limit, the security headers and the metrics (a plain ASGI
middleware: cheaper than Starlette's base class)."""

import hmac
import json
import re
import time

from starlette.requests import ClientDisconnect

from ._errors import ClientError

__all__ = ["Guard", "Metrics", "route_of"]

#: the routes, for the metrics' labels (a fixed set, whatever clients ask)
_ROUTES = [
    (re.compile(r"^/v2/health/(live|ready)$"), "/v2/health/{state}"),
    (
        re.compile(r"^/v2/models/[^/]+(/versions/[^/]+)?/infer$"),
        "/v2/models/{name}/infer",
    ),
    (
        re.compile(r"^/v2/models/[^/]+(/versions/[^/]+)?/ready$"),
        "/v2/models/{name}/ready",
    ),
    (re.compile(r"^/v2/models/[^/]+(/versions/[^/]+)?$"), "/v2/models/{name}"),
    (re.compile(r"^/static/"), "/static"),
]
_PLAIN = {"/", "/predict", "/card", "/metrics", "/v2", "/docs", "/openapi.json"}
#: reachable without the token: health checks, and the page (no model data;
#: it asks for the token); /docs and its schema need it when there is one
OPEN_ROUTES = {"/v2/health/{state}", "/", "/static"}
#: on every answer: no MIME sniffing (JSON is never run as a script)
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff")]
#: on what a browser shows (the page, /docs): no framing (clickjacking), no
#: referrer; the page's own files also a policy: its own scripts, styles and
#: the data: views only. (Not on the API's answers: they cost each request
#: a few per cent, for nothing a browser would do with them.)
BROWSER_HEADERS = SECURITY_HEADERS + [
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
PAGE_HEADERS = BROWSER_HEADERS + [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
        b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
]
_EXTRA_HEADERS = {"/": PAGE_HEADERS, "/static": PAGE_HEADERS, "/docs": BROWSER_HEADERS}
#: a message quoting what a client sent shows at most this many characters
MAX_QUOTED = 200


def quoted(value):
    """``repr(value)``, cut to :data:`MAX_QUOTED` characters: an error names
    what was sent without echoing megabytes of it back."""
    text = repr(value)
    if len(text) <= MAX_QUOTED:
        return text
    return f"{text[:MAX_QUOTED]}... ({len(text):,} characters)"


def route_of(path):
    """The route a path belongs to, for labels; 'other' if none."""
    if path in _PLAIN:
        return path
    for pattern, route in _ROUTES:
        if pattern.match(path):
            return route
    return "other"


class Metrics:
    """The server's Prometheus metrics, in a registry of their own."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self._series = {}
        self.requests = Counter(
            "skfashion_requests",
            "HTTP requests answered, by route and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "skfashion_request_errors",
            "Requests answered with an error (4xx or 5xx), by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "skfashion_request_duration_seconds",
            "Time from a request's arrival to its answer, by route",
            ["route"],
            buckets=(
                0.0005,
                0.001,
                0.002,
                0.005,
                0.01,
                0.02,
                0.05,
                0.1,
                0.2,
                0.5,
                1,
                2,
                5,
            ),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "skfashion_batch_size",
            "Images in each call of the model (requests batched together)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )

    def observe(self, route, status, seconds):
        # the labelled series, looked up once (a lookup takes a lock)
        key = (route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                self.requests.labels(route, str(status)),
                self.errors.labels(route, str(status)) if status >= 400 else None,
                self.latency.labels(route),
            )
        requests, errors, latency = series
        requests.inc()
        if errors is not None:
            errors.inc()
        latency.observe(seconds)

    def exposition(self):
        """The metrics in Prometheus' text format, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


async def send_error(send, error):
    body = json.dumps({"error": error.message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    for key, value in (error.headers or {}).items():
        headers.append((key.lower().encode(), value.encode()))
    await send(
        {"type": "http.response.start", "status": error.status, "headers": headers}
    )
    await send({"type": "http.response.body", "body": body})


def _too_large(size, limit):
    bytes_, what = limit
    return f"the body ({size:,} bytes) is over the limit of {bytes_:,} bytes{what}"


class Guard:
    """Check the bearer token and the body's size, and time every request.

    A body over ``max_body`` bytes (or over the route's own, smaller limit
    in ``route_limits``: ``{route: (bytes, what the limit is for)}``) is
    refused from its Content-Length, or as soon as that many bytes arrived
    (chunked uploads, or a Content-Length the body does not keep to: the
    bytes read are counted whatever the header says): nothing larger is
    ever held in memory. (Starlette's
    ``RequestBodyLimitMiddleware`` acts only once a route reads the body,
    and answers in plain text; here the refusal comes first, as JSON naming
    both sizes, like every error.)
    """

    def __init__(
        self,
        app,
        *,
        metrics,
        token=None,
        max_body=10 * 2**20,
        route_limits=None,
        allowed_hosts=None,
    ):
        self.app = app
        self.metrics = metrics
        self.token = None if token is None else token.encode()
        self.max_body = max_body
        self.route_limits = {
            route: (limit, f" {what}")
            for route, (limit, what) in (route_limits or {}).items()
            if limit < max_body
        }
        hosts = None if allowed_hosts is None or "*" in allowed_hosts else allowed_hosts
        self.hosts = None if hosts is None else {h.lower().encode() for h in hosts}
        self._answered = set()  # Host headers seen and allowed, as sent

    def _check_host(self, headers):
        """Refuse a Host this server does not answer to (DNS rebinding), and a
        browser's request from another site (no CORS: the page is the only
        site that may call the model from a browser)."""
        host = headers.get(b"host", b"")
        if self.hosts is not None and host not in self._answered:
            name = host.lower()
            if not name.startswith(b"["):
                name = name.partition(b":")[0]
            else:
                name = name.partition(b"]")[0] + b"]"
            if name not in self.hosts:
                raise ClientError(
                    400,
                    f"the Host header {quoted(host.decode('latin-1'))} is not one "
                    "this server answers to (skfashion serve --allowed-host)",
                )
            if len(self._answered) < 64:  # the few Host values clients send
                self._answered.add(host)
        origin = headers.get(b"origin")
        if origin is not None and origin.partition(b"://")[2] != host.lower():
            raise ClientError(
                403,
                f"a request from another site ({quoted(origin.decode('latin-1'))}) "
                "is refused: this server allows no cross-origin requests",
            )

    def _check_token(self, headers):
        given = headers.get(b"authorization")
        if given is None:
            raise ClientError(
                401,
                "this server needs a token: send 'Authorization: Bearer TOKEN'",
                {"WWW-Authenticate": "Bearer"},
            )
        scheme, _, credentials = given.strip().partition(b" ")
        # the scheme is case-insensitive (RFC 9110); the token is not
        if scheme.lower() != b"bearer" or not hmac.compare_digest(
            credentials.strip(), self.token
        ):
            raise ClientError(401, "wrong token", {"WWW-Authenticate": "Bearer"})

    def _check(self, scope, route, limit):
        """Refuse a request from a Host or Origin not allowed, without the
        token or with a Content-Length over ``limit``."""
        headers = dict(scope["headers"])
        self._check_host(headers)
        if self.token is not None and route not in OPEN_ROUTES:
            self._check_token(headers)
        length = headers.get(b"content-length")
        if length is None:
            return
        if not length.isdigit() or len(length) > 19:
            raise ClientError(400, "the Content-Length header is not a number")
        if int(length) > limit[0]:
            raise ClientError(413, _too_large(int(length), limit))

    def _limited(self, receive, limit):
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit[0]:
                raise ClientError(413, _too_large(received, limit))
            return message

        return limited_receive

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, route, status = time.perf_counter(), route_of(scope["path"]), 500
        extra = _EXTRA_HEADERS.get(route, SECURITY_HEADERS)

        async def record_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        limit = self.route_limits.get(route, (self.max_body, ""))
        try:
            try:
                self._check(scope, route, limit)
            except ClientError as error:
                return await send_error(record_send, error)
            # counted as they arrive, whatever Content-Length said: a server
            # may pass on what a chunked body sends beyond it (h11 does)
            await self.app(scope, self._limited(receive, limit), record_send)
        except ClientDisconnect:
            status = 499  # nginx's: the client closed the connection, no answer
        finally:
            self.metrics.observe(route, status, time.perf_counter() - start)
