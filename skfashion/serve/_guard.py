"""What every request passes through: the token, the size limit, and the
metrics (a plain ASGI middleware: cheaper than Starlette's base class)."""

import hmac
import json
import re
import time

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
_PLAIN = {"/", "/predict", "/metrics", "/v2", "/docs", "/openapi.json"}
#: reachable without the token: health checks, and the pages (no model data)
OPEN_ROUTES = {"/v2/health/{state}", "/", "/static", "/docs", "/openapi.json"}


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


class Guard:
    """Check the bearer token and the body's size, and time every request.

    A body over ``max_body`` bytes is refused from its Content-Length, or
    as soon as that many bytes arrived (chunked uploads): nothing larger is
    ever held in memory. (Starlette's ``RequestBodyLimitMiddleware`` acts
    only once a route reads the body, and answers in plain text; here the
    refusal comes first, as JSON naming both sizes, like every error.)
    """

    def __init__(self, app, *, metrics, token=None, max_body=10 * 2**20):
        self.app = app
        self.metrics = metrics
        self.token = None if token is None else f"Bearer {token}".encode()
        self.max_body = max_body

    def _check(self, scope, route):
        """Refuse a request without the token or with too long a body;
        True if its body must be counted as it arrives (no Content-Length)."""
        headers = dict(scope["headers"])
        if self.token is not None and route not in OPEN_ROUTES:
            given = headers.get(b"authorization")
            if given is None:
                raise ClientError(
                    401,
                    "this server needs a token: send 'Authorization: Bearer TOKEN'",
                    {"WWW-Authenticate": "Bearer"},
                )
            if not hmac.compare_digest(given, self.token):
                raise ClientError(401, "wrong token", {"WWW-Authenticate": "Bearer"})
        length = headers.get(b"content-length")
        if length is None:
            return True
        if not length.isdigit():
            raise ClientError(400, "the Content-Length header is not a number")
        if int(length) > self.max_body:
            raise ClientError(413, self._too_large(int(length)))
        return False  # the server reads no more than Content-Length

    def _too_large(self, size):
        return f"the body ({size:,} bytes) is over the limit of {self.max_body:,} bytes"

    def _limited(self, receive):
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise ClientError(413, self._too_large(received))
            return message

        return limited_receive

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, route, status = time.perf_counter(), route_of(scope["path"]), 500

        async def record_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            try:
                counted = self._check(scope, route)
            except ClientError as error:
                return await send_error(record_send, error)
            if counted:
                receive = self._limited(receive)
            await self.app(scope, receive, record_send)
        finally:
            self.metrics.observe(route, status, time.perf_counter() - start)
