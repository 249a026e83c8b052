"""The held-out probe's cases against a real ``skfashion serve``: each one's
answer, seconds and the server's memory (issue #46).

Each case runs against a fresh ``skfashion serve`` process (a default
FashionCNN fitted for one epoch on 256 images: the weights change neither
the answers nor the costs) on loopback, started with the defaults but for
what the case names. For each: the status (or exit code), the answer's
message, the seconds until it came, and the server's peak memory above
where it stood before the case (``VmHWM`` minus ``VmRSS``, MiB: what the
case cost the server at its worst). Before the fixes (3372b0f) the probe
found: 16 pictures of 25 Mpx in one request ~10 s of CPU; a 1 KB WebP of
25 Mpx ~285 MB; a 40 MiB chunked body with ``Content-Length: 5`` read
whole; any Host answered by ``make_app``; 960 of 960 images of clients that
left computed; one client able to hold every connection; ``--engine
kserve`` ignoring ``--host``.

Every picture is made before the clock starts: the client's encoding of a
lossless WebP of 25 Mpx (~15 s) was once timed as the server's. A single
1 KB WebP of 25 Mpx costs the server ~1 s and ~400 MiB to decode when
allowed (``--max-pixels-per-byte 1000000``, a row of its own); by default
(256 pixels a byte over 1 Mpx) it is refused from its header.

``starlette`` rows: what Starlette's own ``TrustedHostMiddleware`` and
``max_body_size`` (1.6+) answer to the same bad Host and oversized body, in
process, beside ours: the guard is kept when they answer otherwise.
"""

import functools
import http.client
import importlib.util
import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
from PIL import Image

from ._serving import serving

SIDE = 5000  # 25 Mpx: max_pixels' default, so each picture alone is allowed


def _model(folder):
    from sklearn.pipeline import make_pipeline

    from skfashion import FashionCNN, PixelScaler, fetch_fashion_mnist, save_model

    data = fetch_fashion_mnist(subset="train")
    X, y = data.data[:256], data.target[:256]
    pipe = make_pipeline(
        PixelScaler(),
        FashionCNN(max_epochs=1, validation_split=None, random_state=0),
    ).fit(X, y)
    path = Path(folder) / "cnn.safetensors"
    save_model(pipe, path)
    return path


@functools.cache
def _picture(fmt, **kwargs):
    """A uniform SIDE x SIDE picture in ``fmt``, made once: before any
    case's clock starts (a lossless WebP of 25 Mpx takes the client ~15 s
    to encode)."""
    buffer = io.BytesIO()
    Image.new("RGB", (SIDE, SIDE), (200, 30, 30)).save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _multipart(pictures, name="files"):
    """A ``multipart/form-data`` body of ``(bytes, image subtype)`` files."""
    boundary = "skfashion-probe-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="p{i}"\r\nContent-Type: image/{kind}\r\n\r\n'.encode()
        + data
        + b"\r\n"
        for i, (data, kind) in enumerate(pictures)
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _hwm_rss(pid):
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmHWM"], values["VmRSS"]


def _address(url):
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _request(url, method, path, body=b"", headers=None, timeout=120):
    connection = http.client.HTTPConnection(*_address(url), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _message(text):
    try:
        return json.loads(text).get("error", text)[:120]
    except (ValueError, AttributeError):
        return text[:120]


def _measured(model, case, args=()):
    """Run ``case(url, proc)`` against a fresh server -> the row's numbers."""
    with serving(model, *args) as (proc, url, _):
        _, before = _hwm_rss(proc.pid)
        start = time.perf_counter()
        status, message = case(url, proc)
        seconds = time.perf_counter() - start
        peak, _ = _hwm_rss(proc.pid)
    return {
        "status": status,
        "message": message,
        "seconds": round(seconds, 3),
        "peak_mb_over_before": round(max(peak - before, 0.0), 1),
    }


def _png():
    return _picture("PNG", optimize=True)


def _webp():
    return _picture("WEBP", lossless=True, quality=100, method=6)


def _sixteen_pictures(url, proc):
    png = _png()
    body, kind = _multipart([(png, "png")] * 16)
    status, text = _request(url, "POST", "/predict", body, {"Content-Type": kind})
    return status, f"{len(body) / 2**20:.2f} MiB sent: {_message(text)}"


def _webp_bomb(url, proc):
    webp = _webp()
    body, kind = _multipart([(webp, "webp")])
    status, text = _request(url, "POST", "/predict", body, {"Content-Type": kind})
    return status, f"{len(webp)} bytes sent: {_message(text)}"


def _lying_length(url, proc):
    """40 MiB, chunked, with ``Content-Length: 5`` too."""
    host, port = _address(url)
    with socket.create_connection((host, port), timeout=120) as s:
        s.sendall(
            b"POST /v2/models/skfashion/infer HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b" " * 2**20
        sent = 0
        try:
            for _ in range(40):
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
            s.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the connection: refused early
            pass
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
    head, _, text = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head else "closed"
    return (
        status,
        f"{sent / 2**20:.0f} MiB sent before the answer: "
        + _message(text.decode("latin-1")),
    )


def _foreign_host(url, proc):
    status, text = _request(
        url, "GET", "/v2/models/skfashion", headers={"Host": "evil.example"}
    )
    return status, _message(text)


def _clients_that_leave(url, proc):
    """One request of 256 images keeps the model busy; meanwhile 8 clients
    send 256 images each and leave at once. Images computed after: from
    the server's metrics."""
    X = np.random.default_rng(0).integers(0, 256, (256, 784)).astype(np.uint8)
    body = json.dumps(
        {
            "inputs": [
                {
                    "name": "images",
                    "shape": [256, 784],
                    "datatype": "UINT8",
                    "data": X.ravel().tolist(),
                }
            ]
        }
    ).encode()
    head = (
        b"POST /v2/models/skfashion/infer HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )

    def computed():
        text = _request(url, "GET", "/metrics")[1]
        return float(text.split("skfashion_batch_size_sum ")[1].split()[0])

    before = computed()
    host, port = _address(url)
    busy = socket.create_connection((host, port))
    busy.sendall(head + body)
    time.sleep(0.05)
    for _ in range(8):
        with socket.create_connection((host, port)) as s:
            s.sendall(head + body)
    busy.settimeout(120)
    status = int(busy.recv(65536).split()[1])
    busy.close()
    time.sleep(2)  # what is still queued would be computed by now
    images = computed() - before
    return (
        status,
        f"{images:.0f} of {9 * 256} images computed (256 the client's that stayed)",
    )


def _one_client_many_connections(url, proc):
    """``--max-connections 8``: a client's share is 2. A third connection from
    127.0.0.1 is refused; one from 127.0.0.2 gets in."""
    host, port = _address(url)
    held = [socket.create_connection((host, port)) for _ in range(2)]
    try:
        time.sleep(0.2)
        answers = []
        for source in ("127.0.0.1", "127.0.0.2"):
            s = socket.create_connection((host, port), source_address=(source, 0))
            s.settimeout(30)
            s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
            answers.append(f"{source}: {int(s.recv(4096).split()[1])}")
            s.close()
    finally:
        for s in held:
            s.close()
    return answers[0].split(": ")[1], "; ".join(answers)


def _kserve_host(model):
    if importlib.util.find_spec("kserve") is None:
        return None
    argv = [sys.executable, "-m", "skfashion.cli", "serve", "--engine", "kserve"]
    argv += ["--model", str(model), "--host", "10.1.2.3"]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    return {
        "status": f"exit {done.returncode}",
        "message": done.stderr.strip()[:120],
        "seconds": round(time.perf_counter() - start, 3),
        "peak_mb_over_before": None,
    }


def _starlette_rows():
    """Starlette's own trusted hosts and body limit, beside our guard."""
    from fastapi.testclient import TestClient
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, Router

    async def echo(request: Request):
        return JSONResponse({"bytes": len(await request.body())})

    rows = []
    hosts = Starlette(
        routes=[Route("/", echo, methods=["GET", "POST"])],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["localhost"])],
    )
    with TestClient(hosts, base_url="http://evil.example") as client:
        answer = client.get("/")
    rows.append(("starlette TrustedHostMiddleware: Host evil.example", answer))
    limited = Router(routes=[Route("/", echo, methods=["POST"])], max_body_size=2**20)
    with TestClient(limited, base_url="http://localhost") as client:
        answer = client.post("/", content=b" " * (2**20 + 1))
    rows.append(("starlette max_body_size 1 MiB: 1 MiB + 1 byte", answer))
    return [
        {
            "case": case,
            "status": answer.status_code,
            "message": f"{answer.headers.get('content-type')}: {answer.text[:80]}",
        }
        for case, answer in rows
    ]


def run(quick=True):
    cases = [
        ("16 pictures of 25 Mpx in one /predict", _sixteen_pictures, ()),
        ("a WebP of 25 Mpx", _webp_bomb, ()),
        (
            "a WebP of 25 Mpx, --max-pixels-per-byte 1000000",
            _webp_bomb,
            ("--max-pixels-per-byte", "1000000"),
        ),
        ("40 MiB chunked with Content-Length: 5", _lying_length, ()),
        ("Host: evil.example", _foreign_host, ()),
        (
            "8 clients that leave while the model is busy",
            _clients_that_leave,
            ("--max-images", "256", "--max-batch", "256", "--max-queue", "4096"),
        ),
        (
            "a third connection of one client",
            _one_client_many_connections,
            ("--max-connections", "8"),
        ),
    ]
    _png(), _webp()  # made here, so that no case times the client's encoding
    rows = []
    with TemporaryDirectory() as folder:
        model = _model(folder)
        for name, case, args in cases:
            rows.append({"case": name, **_measured(model, case, args)})
        kserve = _kserve_host(model)
        if kserve is not None:
            rows.append({"case": "--engine kserve --host 10.1.2.3", **kserve})
    return rows + _starlette_rows()
