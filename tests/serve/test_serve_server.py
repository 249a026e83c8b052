"""``skfashion serve`` as a process: concurrent clients each get their own
answer, a storm of bad requests leaves it answering and bounded, a standard
v2 client works unchanged (those three talk to one server), and a signal
lets requests in flight finish."""

import concurrent.futures
import json
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx2")

from test_serve import BAD, INFER, tensor  # noqa: E402

from benchmarks._serving import rss_mb, serving  # noqa: E402


def _margins(proba):
    top2 = np.sort(proba, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


@pytest.fixture(scope="module")
def server(mlp_folder):
    """One server for the tests that need no options of their own: (the
    process, its URL). Batches wait 5 ms for company; uploads up to 1 MiB."""
    _, folder = mlp_folder
    with serving(folder, "--batch-delay-ms", "5", "--max-upload-mb", "1") as started:
        yield started[:2]


def test_concurrent_clients_each_get_their_own_answer(server, mlp_folder, fashion_test):
    """32 clients send one image at a time; the batcher (waiting 5 ms for
    company) mixes them into shared calls; every answer must be its image's."""
    pipe, _ = mlp_folder
    X = fashion_test.data[:320]
    expected = pipe.predict_proba(X)
    _, url = server
    with httpx.Client(base_url=url) as http:
        calls_before = _batches(http.get("/metrics").text)

    def client(indices):
        with httpx.Client(base_url=url, timeout=60) as http:
            return {
                i: http.post(INFER, json=tensor(X[i : i + 1])).json() for i in indices
            }

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        parts = pool.map(client, [range(k, 320, 32) for k in range(32)])
    answers = {i: a for part in parts for i, a in part.items()}
    with httpx.Client(base_url=url) as http:
        calls = _batches(http.get("/metrics").text) - calls_before
    proba = np.array([answers[i]["outputs"][1]["data"] for i in range(320)])
    labels = np.array([answers[i]["outputs"][0]["data"][0] for i in range(320)])
    # float32 on both sides; a batch of other size may round differently
    np.testing.assert_allclose(proba, expected, atol=1e-4)
    clear = _margins(expected) > 1e-3  # all but exact near-ties
    assert clear.mean() > 0.95
    np.testing.assert_array_equal(labels[clear], pipe.predict(X)[clear])
    assert calls < 320  # requests were batched


def _batches(metrics):
    """The calls of the model so far, from the server's metrics."""
    return float(metrics.split("skfashion_batch_size_count ")[1].split()[0])


def _send(http, request_):
    method, url, kwargs = request_
    kwargs = {k: v() if callable(v) else v for k, v in kwargs.items()}
    return http.request(method, url, **kwargs)


def _chunked():
    """A body of 3 MiB with no Content-Length: refused as it arrives, at the
    infer route's own limit (what 16 images can need)."""
    yield from [b"{" + b" " * 2**20] * 3


def test_storm_of_bad_requests(server, mlp_folder, fashion_test):
    """Bad requests of every kind from 8 clients, each followed by a good
    one: every good one answered right, every bad one a 4xx JSON error,
    and the server's memory back where it was after the first round."""
    pipe, _ = mlp_folder
    X = fashion_test.data[:8]
    labels = pipe.predict(X).tolist()
    chunked = ("POST", INFER, {"content": _chunked})
    bad = [b[1:] for b in BAD] + [(chunked, 413, "for the images one request may hold")]
    proc, url = server

    def client(k):
        problems = []
        with httpx.Client(base_url=url, timeout=60) as http:
            for request_, status, phrase in bad:
                response = _send(http, request_)
                if (
                    response.status_code != status
                    or phrase not in response.json()["error"]
                ):
                    problems.append((request_[:2], response.status_code, response.text))
                good = http.post(INFER, json=tensor(X[k : k + 1])).json()
                if good["outputs"][0]["data"] != [labels[k]]:
                    problems.append(("good", good))
        return problems

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(client, range(8)), []) == []
        before = rss_mb(proc.pid)
        for _ in range(3):
            assert sum(pool.map(client, range(8)), []) == []
    after = rss_mb(proc.pid)
    assert proc.poll() is None
    assert after - before < 64, (before, after)


def test_a_standard_v2_client_works_unchanged(server, mlp_folder, fashion_test):
    httpclient = pytest.importorskip("tritonclient.http")
    pipe, _ = mlp_folder
    X = fashion_test.data[:4].astype(np.float32)
    _, url = server
    client = httpclient.InferenceServerClient(url.removeprefix("http://"))
    assert client.is_server_live() and client.is_model_ready("skfashion")
    meta = client.get_model_metadata("skfashion")
    images = httpclient.InferInput(
        "images", list(X.shape), meta["inputs"][0]["datatype"]
    )
    images.set_data_from_numpy(X, binary_data=False)
    result = client.infer("skfashion", [images])
    # Triton's default, binary tensors, too
    binary = httpclient.InferInput("images", list(X.shape), "FP32")
    binary.set_data_from_numpy(X)
    labels = client.infer("skfashion", [binary]).as_numpy("label")
    client.close()
    np.testing.assert_allclose(
        result.as_numpy("probabilities"), pipe.predict_proba(X), atol=1e-4
    )
    np.testing.assert_array_equal(result.as_numpy("label"), pipe.predict(X))
    np.testing.assert_array_equal(labels, pipe.predict(X))


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_signal_lets_requests_in_flight_finish(mlp_folder, fashion_test, signame):
    pipe, folder = mlp_folder
    body = json.dumps(tensor(fashion_test.data[:1])).encode()
    with serving(folder) as (proc, url, printed):
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            head = (
                f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            sock.sendall(head)
            # the server asks for the body once the request reached the
            # route: from here on it is in flight
            interim = b""
            while not interim.endswith(b"\r\n\r\n"):
                chunk = sock.recv(1024)
                assert chunk, interim  # closed: an answer instead of 100
                interim += chunk
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            proc.send_signal(getattr(signal, signame))
            time.sleep(1.0)
            assert proc.poll() is None  # waiting for the request to finish
            sock.sendall(body)
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200")
        answer = json.loads(reply.split(b"\r\n\r\n", 1)[1])
        assert (
            answer["outputs"][0]["data"] == pipe.predict(fashion_test.data[:1]).tolist()
        )
        assert proc.wait(timeout=60) == 0
    assert printed[-1].strip() == "skfashion serve: stopped"


def _serve_command(*args):
    return subprocess.run(
        [sys.executable, "-m", "skfashion.cli", "serve", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--max-upload-mb", "0"], "--max-upload-mb must be in (0, 1024], got 0.0"),
        (["--max-images", "65"], "--max-images (65) must not exceed --max-batch (64)"),
        (["--max-batch", "0"], "--max-batch must be a positive integer, got 0"),
        (["--batch-delay-ms", "-1"], "--batch-delay-ms must be in [0, 1000]"),
        (["--port", "70000"], "--port must be in [0, 65535], got 70000"),
        (["--token", ""], "the token (--token or $SKFASHION_SERVE_TOKEN) is empty"),
        (["--max-connections", "0"], "--max-connections must be a positive integer"),
        (["--request-timeout", "0"], "--request-timeout must be in (0, 3600]"),
        (["--max-header-kb", "0.5"], "--max-header-kb must be in [1, 1024]"),
        (["--max-queue", "32"], "--max-queue (32) must be at least --max-batch (64)"),
        (["--picture-workers", "0"], "--picture-workers must be in [1, 64], got 0"),
    ],
)
def test_serve_command_checks_its_limits(mlp_folder, args, message, capsys):
    from skfashion.cli import main

    assert main(["serve", "--model", str(mlp_folder[1]), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skfashion serve: error: {message}")
    assert err.count("\n") == 1


def test_serve_command_errors_are_one_line(tmp_path):
    done = _serve_command("--model", str(tmp_path / "nothing.safetensors"))
    assert done.returncode == 2
    missing = tmp_path / "nothing.safetensors"
    assert done.stderr == f"skfashion serve: error: {missing}: no such model file\n"


def test_serve_refuses_a_pickle_unless_allowed(mlp_folder, tmp_path):
    import joblib

    joblib.dump(mlp_folder[0], tmp_path / "model.pkl")
    done = _serve_command("--model", str(tmp_path), "--port", "0")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "model.pkl is a pickle" in done.stderr and "--allow-pickle" in done.stderr


def test_serve_warns_when_others_can_reach_it(mlp_folder):
    _, folder = mlp_folder
    with serving(folder, "--host", "0.0.0.0") as (proc, url, printed):
        pass
    text = "".join(printed)
    assert "warning: listening on 0.0.0.0: anyone, with no token, who can reach" in text
    assert f"serving {folder} as 'skfashion': FashionMLP, 28x28 pictures" in text


def _raw(url, data, wait=True):
    """Send raw bytes; what comes back until the server closes or answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        conn.sendall(data)
        if not wait:
            return b""
        return conn.recv(65536)


def test_serve_options_bound_connections_and_log_requests(mlp_folder):
    """The command's own limits over its sockets: the access log, a lower
    case bearer, the default Host list, a head too large, a client that
    leaves mid-body (counted as 499, not as the server's error)."""
    _, folder = mlp_folder
    with serving(
        folder, "--access-log", "--token", "t0ken", "--max-header-kb", "4"
    ) as (proc, url, printed):
        bearer = {"Authorization": "bearer t0ken"}
        with httpx.Client(base_url=url, timeout=60) as http:
            assert http.get("/v2/models/skfashion", headers=bearer).status_code == 200
            evil = http.get("/v2/health/live", headers={"Host": "evil.example:80"})
            assert evil.status_code == 400 and "--allowed-host" in evil.json()["error"]
            big = http.get("/v2/health/live", headers={"X-Big": "a" * 5000})
            assert big.status_code == 431
        head = (
            f"POST {INFER} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer t0ken\r\nContent-Length: 1000\r\n\r\n{"
        )
        _raw(url, head.encode(), wait=False)  # 1 byte of 1,000, then gone
        with httpx.Client(base_url=url, timeout=60, headers=bearer) as http:
            deadline = time.monotonic() + 60
            while 'status="499"' not in (text := http.get("/metrics").text):
                assert time.monotonic() < deadline, text
                time.sleep(0.1)
    assert 'status="500"' not in text
    log = "".join(printed)
    assert '"GET /v2/models/skfashion HTTP/1.1" 200' in log
    assert "Traceback" not in log
