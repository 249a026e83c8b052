"""``skfashion serve --engine kserve``: the model in KServe's real
ModelServer, talked to with Triton's client over REST (binary and JSON)
and gRPC. The transport is tested once, on one classifier: what each
classifier answers is the data plane's, which both engines call and
``test_dataplane.py`` tests in process for every classifier."""

import importlib.util
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

# not imported here: its protobuf messages clash with tritonclient.grpc's
if importlib.util.find_spec("kserve") is None:
    pytest.skip("needs the kserve extra", allow_module_level=True)
httpclient = pytest.importorskip("tritonclient.http")
grpcclient = pytest.importorskip("tritonclient.grpc")
from cases import blobs, make  # noqa: E402
from tritonclient.utils import InferenceServerException  # noqa: E402

from benchmarks._serving import free_ports  # noqa: E402

CLIENTS = {"rest": httpclient, "grpc": grpcclient}
START_TIMEOUT = 120  # seconds: importing kserve on a busy 2-core machine


class Server:
    """``skfashion serve --engine kserve`` in a process of its own."""

    def __init__(self, model_path, log_path):
        self.http_port, self.grpc_port = free_ports(2)
        self.log_path = log_path
        self.log = open(log_path, "w")
        argv = [sys.executable, "-m", "skfashion.cli", "serve", "--engine", "kserve"]
        argv += ["--model", str(model_path), "--port", str(self.http_port)]
        argv += ["--grpc-port", str(self.grpc_port), "--max-images", "64"]
        self.process = subprocess.Popen(
            argv,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._wait_ready()

    def url(self, kind):
        port = self.http_port if kind == "rest" else self.grpc_port
        return f"127.0.0.1:{port}"

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.output()}")
            try:
                ready = all(
                    CLIENTS[kind]
                    .InferenceServerClient(self.url(kind))
                    .is_model_ready("skfashion")
                    for kind in CLIENTS
                )
            except Exception:  # not listening yet: connection refused
                ready = False
            if ready:
                return
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"not ready in {START_TIMEOUT} s: {self.output()}")

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def stop(self, sig=signal.SIGKILL):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=60)
        finally:
            self.log.close()


def _model_file(name, folder):
    from skfashion import save_model
    from skfashion.novelty import NoveltyDetector

    X, y = blobs(pixels=True)
    model = make(name, pipeline=True).fit(X, y)
    detector = NoveltyDetector(model).fit(X)
    path = folder / f"{name}.safetensors"
    save_model(model, path, detector=detector)
    return path, model, detector, X


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kserve")
    path, model, detector, X = _model_file("mlp", folder)
    server = Server(path, folder / "server.log")
    server.model_path = path
    yield server, model, detector, X
    server.stop()


def _infer(
    kind, server, X, datatype="UINT8", outputs=("label", "probabilities"), binary=True
):
    client = CLIENTS[kind]
    tensor = client.InferInput("images", list(X.shape), datatype)
    if binary:
        tensor.set_data_from_numpy(X)
    else:  # JSON mode: tritonclient.http sends it without a Content-Type
        tensor.set_data_from_numpy(X, binary_data=False)
    if kind == "rest":
        asked = [client.InferRequestedOutput(n, binary_data=binary) for n in outputs]
    else:
        asked = [client.InferRequestedOutput(name) for name in outputs]
    connection = client.InferenceServerClient(server.url(kind))
    return connection.infer("skfashion", [tensor], outputs=asked)


@pytest.mark.parametrize(
    "kind, binary",
    [("rest", True), ("rest", False), ("grpc", True)],
    ids=["rest", "rest-json", "grpc"],
)
def test_labels_equal_in_process_predict(served, kind, binary):
    """Triton's client, binary tensors and (REST) JSON ones, which it sends
    without a Content-Type."""
    server, model, detector, X = served
    from skfashion.io import load_predictor

    predictor = load_predictor(server.model_path)
    for batch, datatype in ((X[:64], "UINT8"), (X[:7].astype(np.float32), "FP32")):
        answer = _infer(
            kind,
            server,
            batch,
            datatype,
            outputs=("label", "probabilities", "garment_score"),
            binary=binary,
        )
        np.testing.assert_array_equal(answer.as_numpy("label"), model.predict(batch))
        np.testing.assert_allclose(
            answer.as_numpy("probabilities"), predictor.predict_proba(batch), atol=1e-6
        )
        np.testing.assert_allclose(
            answer.as_numpy("garment_score"),
            detector.score_samples(batch),
            rtol=1e-4,
            atol=1e-4,
        )


@pytest.mark.parametrize("kind", list(CLIENTS))
def test_bad_tensors_are_refused_by_name(served, kind):
    server, _, _, X = served
    client = CLIENTS[kind]
    connection = client.InferenceServerClient(server.url(kind))

    def refused(name, shape, datatype, data):
        tensor = client.InferInput(name, shape, datatype)
        tensor.set_data_from_numpy(data)
        with pytest.raises(InferenceServerException) as caught:
            connection.infer("skfashion", [tensor])
        return caught.value

    wrong_name = refused("pixels", list(X[:2].shape), "UINT8", X[:2])
    too_wide = np.zeros((2, X.shape[1] + 1), np.float32)
    wrong_shape = refused("images", list(too_wide.shape), "FP32", too_wide)
    bright = np.full((2, X.shape[1]), 300, np.float32)
    out_of_range = refused("images", list(bright.shape), "FP32", bright)
    many = np.resize(X, (65, X.shape[1]))
    too_many = refused("images", list(many.shape), "UINT8", many)
    expected = {
        "unknown input 'pixels'": wrong_name,
        f"is not [n_images, {X.shape[1]}]": wrong_shape,
        "pixels must lie in [0, 255]": out_of_range,
        "the limit is 64": too_many,
    }
    for message, error in expected.items():
        assert message in error.message(), error.message()
        status = str(error.status())
        assert status == ("400" if kind == "rest" else "StatusCode.INVALID_ARGUMENT")
    with pytest.raises(InferenceServerException, match="unknown output 'logits'"):
        _infer(kind, server, X[:2], outputs=("logits",))


def test_sigterm_stops_the_server_with_0(tmp_path):
    path, model, _, X = _model_file("mlp", tmp_path)
    server = Server(path, tmp_path / "server.log")
    answer = _infer("grpc", server, X[:3])
    np.testing.assert_array_equal(answer.as_numpy("label"), model.predict(X[:3]))
    assert server.stop(signal.SIGTERM) == 0, server.output()
    assert "skfashion serve: stopped" in server.output()


def test_kserve_engine_refuses_a_token_and_clashing_ports(tmp_path, capsys):
    from skfashion.cli import main

    argv = ["serve", "--engine", "kserve", "--model", str(tmp_path / "none")]
    assert main([*argv, "--token", "secret"]) == 2
    err = capsys.readouterr().err
    assert "ModelServer cannot apply --token: it listens on every interface" in err
    assert "without authentication (KServe leaves it to the cluster's" in err
    assert main([*argv, "--host", "10.1.2.3", "--max-connections", "5"]) == 2
    err = capsys.readouterr().err
    assert "cannot apply --host, --max-connections:" in err and err.count("\n") == 1
    assert main([*argv, "--port", "9000", "--grpc-port", "9000"]) == 2
    assert "must differ" in capsys.readouterr().err
    assert main(argv) == 2
    assert "no such model file" in capsys.readouterr().err
