"""skfashion.serve in one process: the routes, the Open Inference Protocol,
every bad input, the token, the metrics and the batcher."""

import asyncio
import importlib.util
import io
import json
import threading

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("prometheus_client")
from cases import CASE_IDS, CASES, NAMES, blobs, data_for, make  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from skfashion import CLASS_NAMES, preprocess_image  # noqa: E402
from skfashion.serve import DynamicBatcher, Overloaded, make_app  # noqa: E402

INFER = "/v2/models/skfashion/infer"
#: seconds a test waits at most for a thread it released
PATIENCE = 60


def tensor(X, datatype="UINT8", name="images"):
    X = np.asarray(X)
    return {
        "inputs": [
            {
                "name": name,
                "datatype": datatype,
                "shape": list(X.shape),
                "data": X.ravel().tolist(),
            }
        ]
    }


def client_of(app, **kwargs):
    """A test client that sends ``Host: localhost``, which make_app answers
    by default (TestClient's own ``testserver`` it refuses)."""
    return TestClient(app, base_url="http://localhost", **kwargs)


def png(array):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def mlp_client(mlp_folder):
    pipe, _ = mlp_folder
    with client_of(make_app(pipe, max_upload_bytes=2**20)) as client:
        yield pipe, client


@pytest.mark.parametrize("name", NAMES)
def test_v2_infer_gives_predict_proba_of_every_classifier(name):
    X, y = blobs(pixels=True)
    model = make(name, pipeline=True).fit(X, y)
    with client_of(make_app(model)) as client:
        meta = client.get("/v2/models/skfashion").json()
        assert meta["inputs"] == [
            {"name": "images", "datatype": "FP32", "shape": [-1, X.shape[1]]}
        ]
        answer = client.post(INFER, json={**tensor(X[:7]), "id": "a1"}).json()
    assert answer["id"] == "a1" and answer["model_name"] == "skfashion"
    assert "garment_score" not in json.dumps(meta)  # no detector, no score
    outputs = {o["name"]: o for o in answer["outputs"]}
    proba = np.array(outputs["probabilities"]["data"]).reshape(7, -1)
    assert outputs["probabilities"]["shape"] == [7, len(model.classes_)]
    np.testing.assert_allclose(proba, model.predict_proba(X[:7]), atol=1e-5)
    assert outputs["label"]["data"] == model.predict(X[:7]).tolist()


def test_body_is_counted_whatever_content_length_says():
    """A client that sends Content-Length: 5 and then a chunked body of
    megabytes (h11 passes on what arrives) is refused once the bytes read
    pass the limit: the application never holds more."""
    X, y = blobs(pixels=True)
    app = make_app(make("mlp", pipeline=True).fit(X, y), max_upload_bytes=4096)
    chunks = [b"x" * 2048] * 1000  # 2 MB in all
    sent, read = [], 0

    async def receive():
        nonlocal read
        read += 1
        body = chunks[read - 1]
        return {"type": "http.request", "body": body, "more_body": read < len(chunks)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": INFER,
        "raw_path": INFER.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-length", b"5"),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    body = b"".join(
        m.get("body", b"") for m in sent if m["type"] != "http.response.start"
    )
    assert start["status"] == 413, body
    assert b"over the limit of 4,096 bytes" in body
    assert read <= 3  # refused at the third chunk: 6,144 bytes read


def test_v2_metadata_health_and_routes(mlp_client):
    pipe, client = mlp_client
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2/models/skfashion/ready").json()["ready"] is True
    assert client.get("/v2").json()["name"] == "skfashion"
    meta = client.get("/v2/models/skfashion").json()
    assert meta["class_names"] == list(CLASS_NAMES)
    assert [o["name"] for o in meta["outputs"]] == ["label", "probabilities"]
    assert meta["outputs"][1]["shape"] == [-1, 10]
    missing = client.get("/v2/models/other")
    assert missing.status_code == 404
    assert "unknown model 'other'" in missing.json()["error"]
    assert "openapi" in client.get("/openapi.json").json()


def test_v2_accepts_fp32_nested_binary_and_chosen_outputs(mlp_client, fashion_test):
    pipe, client = mlp_client
    X = fashion_test.data[:3]
    expected = pipe.predict_proba(X)
    nested = tensor(X.astype(np.float32), "FP32")
    nested["inputs"][0]["data"] = X.astype(float).tolist()  # [[...], [...]]
    nested["outputs"] = [{"name": "label"}]
    answer = client.post(INFER, json=nested).json()
    assert [o["name"] for o in answer["outputs"]] == ["label"]
    assert answer["outputs"][0]["data"] == pipe.predict(X).tolist()
    # Triton's binary extension: the tensor's bytes after the JSON
    head = tensor(X[:0].reshape(0, 784))
    head["inputs"][0] = {
        "name": "images",
        "datatype": "FP32",
        "shape": [3, 784],
        "parameters": {"binary_data_size": X.size * 4},
    }
    header = json.dumps(head).encode()
    response = client.post(
        INFER,
        content=header + X.astype("<f4").tobytes(),
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    proba = response.json()["outputs"][1]["data"]
    np.testing.assert_allclose(np.reshape(proba, (3, 10)), expected, atol=1e-5)


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_v2_gives_the_garment_score_of_a_model_with_a_detector(name, pipeline):
    """The score is an output a client asks for by name; the metadata lists
    it with its threshold; a model without a detector has none."""
    from skfashion.io import Predictor
    from skfashion.novelty import NoveltyDetector

    X, y = data_for(pipeline)
    model = make(name, pipeline=pipeline).fit(X, y)
    detector = NoveltyDetector(model, random_state=0).fit(X)
    rows = X.astype(np.float32)  # what the model takes: pixels, or [0, 1]
    with client_of(make_app(Predictor(model, detector))) as client:
        meta = client.get("/v2/models/skfashion").json()
        asked = {**tensor(rows[:5], "FP32"), "outputs": [{"name": "garment_score"}]}
        answer = client.post(INFER, json=asked).json()
        plain = client.post(INFER, json=tensor(rows[:5], "FP32")).json()
    assert meta["outputs"][-1] == {
        "name": "garment_score",
        "datatype": "FP32",
        "shape": [-1],
    }
    threshold = meta["parameters"]["garment_score_threshold"]
    assert threshold == pytest.approx(detector.offset_, rel=1e-6)
    assert meta["parameters"]["novelty_method"] == "energy"
    (output,) = answer["outputs"]
    assert output["name"] == "garment_score" and output["shape"] == [5]
    expected = detector.score_samples(X[:5])
    np.testing.assert_allclose(output["data"], expected, rtol=1e-4, atol=1e-4)
    assert [o["name"] for o in plain["outputs"]] == ["label", "probabilities"]
    with client_of(make_app(model)) as client:
        refused = client.post(INFER, json=asked)
    assert refused.status_code == 400
    assert "unknown output 'garment_score'" in refused.json()["error"]


def test_predict_uploads_say_whether_each_is_a_garment(mlp_folder, fashion_train):
    from sklearn.datasets import load_sample_image

    from skfashion.io import Predictor
    from skfashion.novelty import NoveltyDetector

    pipe, _ = mlp_folder
    detector = NoveltyDetector(pipe, method="mahalanobis", random_state=0)
    detector.fit(fashion_train.data[:5000])
    typical = detector.score_samples(fashion_train.data[5000:5020]).argmax()
    images = [fashion_train.images[5000 + typical], load_sample_image("china.jpg")]
    files = [
        ("files", (f"{i}.png", png(im), "image/png")) for i, im in enumerate(images)
    ]
    with client_of(make_app(Predictor(pipe, detector))) as client:
        answers = client.post("/predict", files=files).json()["predictions"]
    pixels = np.stack([preprocess_image(Image.fromarray(im)) for im in images])
    scores = detector.score_samples(pixels)
    assert [a["garment"] for a in answers] == [True, False]
    for answer, score in zip(answers, scores, strict=True):
        assert answer["garment_score"] == pytest.approx(score, abs=1e-3)
        assert answer["garment_threshold"] == round(detector.offset_, 4)


def test_predict_uploads_give_the_label_and_the_view(mlp_client, fashion_test):
    pipe, client = mlp_client
    images = fashion_test.images[:4]
    files = [
        ("files", (f"img{i}.png", png(im), "image/png")) for i, im in enumerate(images)
    ]
    response = client.post("/predict?top=2", files=files)
    assert response.status_code == 200, response.text
    answers = response.json()["predictions"]
    assert [a["file"] for a in answers] == [f"img{i}.png" for i in range(4)]
    for image, answer in zip(images, answers, strict=True):
        pixels = preprocess_image(png_image := Image.open(io.BytesIO(png(image))))
        png_image.close()
        proba = pipe.predict_proba(pixels[None])[0]
        assert answer["label"] == CLASS_NAMES[proba.argmax()]
        assert [t["label"] for t in answer["top"]] == [
            CLASS_NAMES[i] for i in np.argsort(proba)[::-1][:2]
        ]
        assert answer["top"][0]["probability"] == pytest.approx(proba.max(), abs=1e-4)
        view = answer["view"].removeprefix("data:image/png;base64,")
        import base64

        seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(view))))
        np.testing.assert_array_equal(seen.ravel(), pixels)


def test_the_page_works_offline(mlp_client):
    _, client = mlp_client
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("static/app.js", "static/style.css"):
        assert f'"{asset}"' in page.text
        response = client.get(f"/{asset}")
        assert response.status_code == 200 and response.content
        assert "https://" not in response.text


def _bomb():
    buffer = io.BytesIO()
    Image.new("L", (6000, 6000)).save(buffer, format="PNG")  # 36 Mpx, 35 kB
    return buffer.getvalue()


def _wide():
    buffer = io.BytesIO()
    Image.new("L", (20_000, 1)).save(buffer, format="PNG")  # 20,000 px, 90 bytes
    return buffer.getvalue()


def _truncated():
    return png(np.random.RandomState(0).randint(0, 255, (64, 64)))[:300]


def _bad_requests():
    X = np.zeros((2, 784), np.uint8)
    good = tensor(X)
    nan = json.dumps(good).replace('"data": [0', '"data": [NaN', 1)
    big = tensor(X)
    big["inputs"][0]["data"][5] = 300
    ragged = tensor(X)
    ragged["inputs"][0]["data"] = [[0] * 784, [0] * 3]
    picture = {"files": ("a.png", png(np.zeros((28, 28))), "image/png")}
    yield "empty body", ("POST", "/predict", {}), 400, "files"
    yield (
        "empty file",
        ("POST", "/predict", {"files": {"files": ("e.png", b"")}}),
        400,
        "empty",
    )
    yield (
        "not a picture",
        ("POST", "/predict", {"files": {"files": ("a.txt", b"hello")}}),
        415,
        "not a picture",
    )
    yield (
        "truncated png",
        ("POST", "/predict", {"files": {"files": ("t.png", _truncated())}}),
        400,
        "not a readable picture",
    )
    yield (
        "decompression bomb",
        ("POST", "/predict", {"files": {"files": ("b.png", _bomb())}}),
        413,
        "6000x6000 pixels",
    )
    yield (
        "upload over limit",
        ("POST", "/predict", {"files": {"files": ("h.png", b"x" * 2**21)}}),
        413,
        "over the limit",
    )
    yield (
        "too many files",
        ("POST", "/predict", {"files": [("files", picture["files"])] * 17}),
        413,
        "limit is 16",
    )
    yield "top 0", ("POST", "/predict?top=0", {"files": picture}), 400, "top"
    yield "not json", ("POST", INFER, {"content": b"{nope"}), 400, "not JSON"
    yield "json list", ("POST", INFER, {"json": [1, 2]}), 400, "JSON object"
    yield "no inputs", ("POST", INFER, {"json": {}}), 400, "'inputs'"
    yield (
        "wrong input name",
        ("POST", INFER, {"json": tensor(X, name="x")}),
        400,
        "unknown input 'x'",
    )
    yield (
        "wrong shape",
        ("POST", INFER, {"json": tensor(X.reshape(4, 392))}),
        400,
        "[n_images, 784]",
    )
    yield (
        "wrong datatype",
        ("POST", INFER, {"json": tensor(X, "BOOL")}),
        400,
        "datatype 'BOOL'",
    )
    yield (
        "too few values",
        (
            "POST",
            INFER,
            {"json": {"inputs": [{**good["inputs"][0], "data": [0] * 10}]}},
        ),
        400,
        "needs 1568 values",
    )
    yield "ragged data", ("POST", INFER, {"json": ragged}), 400, "not a list of numbers"
    yield (
        "strings",
        (
            "POST",
            INFER,
            {"json": {"inputs": [{**good["inputs"][0], "data": ["a"] * 1568}]}},
        ),
        400,
        "numbers only",
    )
    yield "NaN", ("POST", INFER, {"content": nan.encode()}), 400, "NaN"
    yield "out of range", ("POST", INFER, {"json": big}), 400, "[0, 255]"
    yield (
        "too many images",
        ("POST", INFER, {"json": tensor(np.zeros((17, 784)))}),
        413,
        "limit is 16",
    )
    yield (
        "unknown output",
        ("POST", INFER, {"json": {**good, "outputs": [{"name": "x"}]}}),
        400,
        "unknown output 'x'",
    )
    yield (
        "binary size",
        (
            "POST",
            INFER,
            {
                "content": b'{"inputs": []}abc',
                "headers": {"Inference-Header-Content-Length": "999"},
            },
        ),
        400,
        "Inference-Header-Content-Length",
    )
    yield "wrong method", ("GET", INFER, {}), 405, "GET is not allowed"
    yield "unknown route", ("GET", "/nowhere", {}), 404, "no route /nowhere"
    # small inputs that were 500s
    deep = b'{"inputs": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    yield "nested 5000 deep", ("POST", INFER, {"content": deep}), 400, "nested"
    listed = {"inputs": [{**good["inputs"][0], "datatype": ["FP32"]}]}
    yield "datatype a list", ("POST", INFER, {"json": listed}), 400, "datatype ['FP32']"
    head = json.dumps(
        {"inputs": [{**good["inputs"][0], "data": None, "parameters": [1]}]}
    ).encode()
    yield (
        "parameters a list",
        (
            "POST",
            INFER,
            {
                "content": head + X.tobytes(),
                "headers": {"Inference-Header-Content-Length": str(len(head))},
            },
        ),
        400,
        "'parameters' must be an object",
    )
    # b"\xb2" is "²" in Latin-1: a digit to str.isdigit, not to int()
    for label, value in [("superscript two", b"\xb2"), ("5000 digits", b"9" * 5000)]:
        yield (
            f"header length of {label}",
            (
                "POST",
                INFER,
                {
                    "content": head + X.tobytes(),
                    "headers": {"Inference-Header-Content-Length": value},
                },
            ),
            400,
            "Inference-Header-Content-Length",
        )
    surrogate = json.dumps(good).replace("{", '{"id": "\\ud800", ', 1).encode()
    yield "lone surrogate id", ("POST", INFER, {"content": surrogate}), 400, "'id'"
    # bounded before it is parsed: a JSON body larger than 16 images can need
    yield (
        "v2 body over its limit",
        ("POST", INFER, {"content": b"[" + b"0," * 300_000 + b"0]"}),
        413,
        "for the images one request may hold",
    )
    yield (
        "a side over 16,384",
        ("POST", "/predict", {"files": {"files": ("w.png", _wide())}}),
        413,
        "side over the limit of 16,384",
    )
    # what a browser on another site sends: refused (no CORS)
    yield (
        "cross-site post",
        (
            "POST",
            INFER,
            {
                "content": json.dumps(good).encode(),
                "headers": {
                    "Origin": "http://evil.example",
                    "Content-Type": "text/plain",
                },
            },
        ),
        403,
        "another site",
    )


BAD = list(_bad_requests())


@pytest.mark.parametrize(
    "request_, status, phrase", [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_gets_a_4xx_that_names_it(
    mlp_client, fashion_test, request_, status, phrase
):
    pipe, client = mlp_client
    method, url, kwargs = request_
    response = client.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert phrase in error
    assert "Traceback" not in error
    # and the server goes on answering good requests
    good = client.post(INFER, json=tensor(fashion_test.data[:1]))
    assert (
        good.json()["outputs"][0]["data"]
        == pipe.predict(fashion_test.data[:1]).tolist()
    )


def test_a_crash_is_a_500_without_details():
    class Broken:
        classes_ = np.arange(3)
        n_features_in_ = 4

        def predict_proba(self, X):
            if len(X) > 1 or X.sum() > 0:
                raise RuntimeError("secret internals")
            return np.full((len(X), 3), 1 / 3)

    with client_of(make_app(Broken()), raise_server_exceptions=False) as client:
        response = client.post(INFER, json=tensor(np.ones((1, 4))))
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal error (the server's log has the details)"
    }


def test_token_guards_every_route_but_health_and_pages(mlp_folder):
    pipe, _ = mlp_folder
    with client_of(make_app(pipe, token="s3cret")) as client:
        for url in (
            "/v2/health/live",
            "/v2/health/ready",
            "/",
            "/static/app.js",
        ):
            assert client.get(url).status_code == 200, url
        closed = [
            ("GET", "/docs"),
            ("GET", "/openapi.json"),
            ("GET", "/metrics"),
            ("GET", "/v2/models/skfashion"),
            ("GET", "/v2"),
            ("GET", "/card"),
            ("POST", INFER),
            ("POST", "/predict"),
        ]
        for method, url in closed:
            response = client.request(method, url)
            assert response.status_code == 401, url
            assert response.headers["www-authenticate"] == "Bearer"
            assert "Authorization: Bearer" in response.json()["error"]
            wrong = client.request(
                method, url, headers={"Authorization": "Bearer nope"}
            )
            assert wrong.json() == {"error": "wrong token"}
        right = {"Authorization": "Bearer s3cret"}
        assert client.get("/metrics", headers=right).status_code == 200
        # the scheme is case-insensitive (RFC 9110), the token is not
        lower = {"Authorization": "bearer s3cret"}
        assert client.get("/metrics", headers=lower).status_code == 200
        upper = {"Authorization": "Bearer S3CRET"}
        assert client.get("/metrics", headers=upper).status_code == 401
        assert client.get("/docs", headers=right).status_code == 200
        answer = client.post(INFER, json=tensor(np.zeros((1, 784))), headers=right)
        assert answer.status_code == 200


def test_metrics_count_requests_errors_and_batches(mlp_folder):
    pipe, _ = mlp_folder
    with client_of(make_app(pipe)) as client:
        for _ in range(3):
            client.post(INFER, json=tensor(np.zeros((2, 784))))
        client.post(INFER, json={})
        text = client.get("/metrics").text
    assert (
        'skfashion_requests_total{route="/v2/models/{name}/infer",status="200"} 3.0'
        in text
    )
    errors = 'skfashion_request_errors_total{route="/v2/models/{name}/infer"'
    assert errors + ',status="400"} 1.0' in text
    assert (
        'skfashion_request_duration_seconds_count{route="/v2/models/{name}/infer"} 4.0'
        in text
    )
    # the warm-up call (1 image) and three of 2 images
    assert "skfashion_batch_size_count 4.0" in text
    assert "skfashion_batch_size_sum 7.0" in text


@pytest.mark.parametrize(
    "params, message",
    [
        ({"max_images": 0}, "max_images must be a positive integer"),
        ({"max_images": 65}, "must not exceed max_batch"),
        ({"max_delay": 5}, "max_delay must be in [0, 1]"),
        ({"max_upload_bytes": 1.5}, "max_upload_bytes must be a positive integer"),
    ],
)
def test_make_app_checks_its_limits(mlp_folder, params, message):
    with pytest.raises(
        ValueError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        make_app(mlp_folder[0], **params)


def test_make_app_takes_settings_and_overrides(mlp_folder):
    """One ServeSettings value, some of its fields replaced by keywords; an
    unknown keyword is refused; the default answers this machine's names only."""
    from skfashion.serve import ServeSettings

    settings = ServeSettings(name="fashion", max_images=2, max_batch=8)
    app = make_app(mlp_folder[0], settings, max_images=3)
    assert app.state.settings == ServeSettings(
        name="fashion", max_images=3, max_batch=8
    )
    with pytest.raises(TypeError, match="max_imges"):
        make_app(mlp_folder[0], max_imges=3)
    with TestClient(make_app(mlp_folder[0])) as client:  # Host: testserver
        refused = client.get("/v2/health/live")
        assert refused.status_code == 400 and "testserver" in refused.json()["error"]
        for host in ("localhost", "127.0.0.1", "[::1]"):
            answered = client.get("/v2/health/live", headers={"Host": host})
            assert answered.status_code == 200, host
    with TestClient(make_app(mlp_folder[0], allowed_hosts="*")) as client:
        assert client.get("/v2/health/live").status_code == 200


def test_make_app_needs_a_fitted_classifier():
    with pytest.raises(TypeError, match="fitted classifier with predict_proba"):
        make_app(object())


def test_onnx_graph_is_served_like_the_model(mlp_folder, tmp_path, fashion_test):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from skfashion import export_onnx
    from skfashion.io import load_predictor

    pipe, _ = mlp_folder
    export_onnx(pipe, tmp_path / "model.onnx")
    graph = load_predictor(tmp_path / "model.onnx", warn=print)
    X = fashion_test.data[:5]
    with client_of(make_app(graph)) as client:
        assert client.get("/v2/models/skfashion").json()["platform"] == "onnxruntime"
        answer = client.post(INFER, json=tensor(X)).json()
    proba = np.reshape(answer["outputs"][1]["data"], (5, 10))
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-3)


def test_the_card_route_answers_the_served_models_card(mlp_folder, tmp_path):
    hub = pytest.importorskip("huggingface_hub")
    from skfashion import save_model
    from skfashion.io import load_predictor

    pipe, folder = mlp_folder
    with client_of(make_app(load_predictor(folder))) as client:  # no card
        answer = client.get("/card")
    assert answer.status_code == 404
    assert answer.json()["error"].startswith("this model has no card")
    save_model(pipe, tmp_path / "model.safetensors", card={"test_accuracy": 0.8125})
    card = hub.ModelCard.load(tmp_path / "README.md")
    with client_of(make_app(load_predictor(tmp_path))) as client:
        answer = client.get("/card")
    assert answer.status_code == 200
    assert answer.json() == {
        "title": "FashionMLP",
        "results": [
            {
                "metric": "accuracy",
                "dataset": "Fashion-MNIST",
                "split": "test",
                "value": 0.8125,
            }
        ],
        "metadata": card.data.to_dict(),
        "markdown": card.text,
    }


def test_serving_a_graph_imports_neither_torch_nor_skorch(mlp_folder, tmp_path):
    """A server of an ONNX graph -- skfashion.serve imported, the graph
    loaded, a request answered -- never waits for PyTorch or skorch."""
    import subprocess
    import sys

    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from skfashion import export_onnx

    export_onnx(mlp_folder[0], tmp_path / "model.onnx")
    card = "True"
    if importlib.util.find_spec("huggingface_hub"):  # its card, shown too
        from skfashion import save_model
        from skfashion.io import model_card

        save_model(mlp_folder[0], tmp_path / "model.safetensors")
        graphs = [tmp_path / "model.onnx"]
        model_card(tmp_path / "model.safetensors", graphs=graphs).save(
            tmp_path / "README.md"
        )
        card = "client.get('/card').status_code == 200"
    script = (
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from skfashion.io import load_predictor\n"
        "from skfashion.serve import make_app\n"
        "app = make_app(load_predictor('model.onnx'))\n"
        "with TestClient(app, base_url='http://localhost') as client:\n"
        f"    answer = client.post({INFER!r}, json=json.loads(sys.argv[1]))\n"
        f"    assert {card}\n"
        "assert answer.status_code == 200, answer.text\n"
        "print(sorted({'torch', 'skorch'} & set(sys.modules)))\n"
    )
    request = json.dumps(tensor(np.zeros((2, 784), dtype=np.uint8)))
    done = subprocess.run(
        [sys.executable, "-c", script, request],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- the batcher ------------------------------------------------------------


def _slow_identity(calls):
    def predict(X):
        calls.append(len(X))
        import time

        time.sleep(0.02)
        return X * 2

    return predict


def test_batcher_batches_concurrent_requests_and_answers_each_its_own():
    calls = []

    async def main():
        async with DynamicBatcher(_slow_identity(calls), max_batch=16) as batcher:
            rows = [np.full((1 + i % 3, 2), i, np.float32) for i in range(30)]
            answers = await asyncio.gather(*(batcher.predict(r) for r in rows))
        return rows, answers

    rows, answers = asyncio.run(main())
    for row, answer in zip(rows, answers, strict=True):
        np.testing.assert_array_equal(answer, row * 2)
    assert sum(calls) == sum(len(r) for r in rows)
    assert max(calls) > 3 and max(calls) <= 16  # batched, within the limit
    assert len(calls) < 30


def test_batcher_waits_max_delay_for_more():
    calls = []

    async def main():
        async with DynamicBatcher(_slow_identity(calls), max_delay=0.5) as batcher:
            first = asyncio.ensure_future(batcher.predict(np.ones((1, 2))))
            await asyncio.sleep(0.05)  # well within the delay
            second = await batcher.predict(np.ones((1, 2)))
            return await first, second

    asyncio.run(main())
    assert calls == [2]


def test_batcher_gives_errors_to_their_batch_and_goes_on():
    def predict(X):
        if (X < 0).any():
            raise ArithmeticError("negative")
        return X

    async def main():
        async with DynamicBatcher(predict) as batcher:
            with pytest.raises(ArithmeticError, match="negative"):
                await batcher.predict(-np.ones((1, 2)))
            return await batcher.predict(np.ones((1, 2)))

    np.testing.assert_array_equal(asyncio.run(main()), np.ones((1, 2)))


def test_batcher_refuses_beyond_its_queue_and_drains_on_stop():
    calls = []

    async def main():
        batcher = DynamicBatcher(_slow_identity(calls), max_batch=4, max_queue=8)
        batcher.start()
        waiting = [
            asyncio.ensure_future(batcher.predict(np.ones((4, 1)))) for _ in range(2)
        ]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded, match="8 images are waiting"):
            await batcher.predict(np.ones((1, 1)))
        with pytest.raises(ValueError, match="5 images in one request; the limit is 4"):
            await batcher.predict(np.ones((5, 1)))
        await batcher.stop()  # answers what was queued first
        assert all(w.done() and not w.exception() for w in waiting)
        with pytest.raises(RuntimeError, match="not running"):
            await batcher.predict(np.ones((1, 1)))

    asyncio.run(main())
    assert sum(calls) == 8


def test_batcher_drops_requests_nobody_awaits_or_past_their_deadline(monkeypatch):
    """A request whose caller left (its task cancelled) or that waited past
    ``timeout`` is not computed; the others are, each its own answer."""
    from skfashion.serve import _batcher

    calls = []
    gate = threading.Event()

    def predict(X):
        calls.append(X[:, 0].tolist())
        gate.wait(PATIENCE)  # the first call holds the model while others queue
        return X

    clock = [0.0]
    monkeypatch.setattr(_batcher, "_now", lambda: clock[0])  # moved by hand

    async def main():
        async with DynamicBatcher(predict, max_batch=1, timeout=5) as batcher:
            first = asyncio.ensure_future(batcher.predict(np.full((1, 1), 1.0)))
            while not calls:  # the model is busy with the first request
                await asyncio.sleep(0.001)
            gone = asyncio.ensure_future(batcher.predict(np.full((1, 1), 2.0)))
            late = asyncio.ensure_future(batcher.predict(np.full((1, 1), 3.0)))
            await asyncio.sleep(0)
            gone.cancel()  # its client left
            clock[0] = 6.0  # past the deadline of those queued at 0
            kept = asyncio.ensure_future(batcher.predict(np.full((1, 1), 4.0)))
            await asyncio.sleep(0)
            gate.set()
            answers = await first, await kept
            with pytest.raises(Overloaded, match="waited over 5 s"):
                await late
            return answers

    first, kept = asyncio.run(main())
    assert first.tolist() == [[1.0]] and kept.tolist() == [[4.0]]
    assert calls == [[1.0], [4.0]]  # neither 2 (gone) nor 3 (late) computed


def _picture(side=8):
    return png(np.full((side, side), 200, np.uint8))


def test_picture_pool_bounds_a_request_by_its_deadline(monkeypatch):
    """Each picture starts within the request's budget or is refused: 503
    if the request waited that long for a thread, 413 naming the picture if
    the ones before it took that long. The clock is moved by hand."""
    from skfashion.serve import _images

    clock = [0.0]
    monkeypatch.setattr(_images.time, "monotonic", lambda: clock[0])
    real = _images.pixels_of_upload

    def slow(data, **kwargs):  # each picture "takes" 4 s
        clock[0] += 4
        return real(data, **kwargs)

    monkeypatch.setattr(_images, "pixels_of_upload", slow)
    pool = _images.PicturePool(workers=1, max_waiting=1, timeout=10)
    pool.start()
    uploads = [(f"p{i}.png", _picture()) for i in range(4)]

    async def decode(uploads):
        return await pool.decode(uploads, side=28, max_pixels=10**6)

    try:
        X, views = asyncio.run(decode(uploads[:2]))  # 8 s: within 10
        assert X.shape == (2, 784) and len(views) == 2
        with pytest.raises(_images.ClientError) as info:
            asyncio.run(decode(uploads))  # the third starts at 8 s, the fourth 12
        assert info.value.status == 413 and info.value.message.startswith("p3.png")

        def waited(*args):
            clock[0] += 11  # a request that waited 11 s for the thread
            return real_decode_all(*args)

        real_decode_all = _images.PicturePool._decode_all.__get__(pool)
        monkeypatch.setattr(pool, "_decode_all", waited)
        with pytest.raises(_images.ClientError) as info:
            asyncio.run(decode(uploads[:1]))
        assert info.value.status == 503 and "waited over 10 s" in info.value.message
    finally:
        pool.stop()


def test_a_request_has_a_pixel_budget(mlp_client, monkeypatch):
    """Pictures each within max_pixels but together over max_request_pixels
    are refused (413) from their headers, before any is decoded."""
    from skfashion.serve import _images

    pipe, _ = mlp_client
    decoded = []
    real = _images.pixels_of_upload
    monkeypatch.setattr(
        _images,
        "pixels_of_upload",
        lambda data, **kw: decoded.append(1) or real(data, **kw),
    )
    big = png(np.full((100, 100), 200, np.uint8))  # 10,000 pixels each
    files = [("files", (f"p{i}.png", big, "image/png")) for i in range(3)]
    with client_of(make_app(pipe, max_pixels=10_000, max_request_pixels=25_000)) as c:
        refused = c.post("/predict", files=files)
        assert refused.status_code == 413 and decoded == []
        assert (
            "30,000 pixels together, over the limit of 25,000"
            in refused.json()["error"]
        )
        assert c.post("/predict", files=files[:2]).status_code == 200
        assert len(decoded) == 2


def test_a_large_picture_is_bounded_by_its_bytes(mlp_client):
    """Over SMALL_PICTURE pixels, a picture holding more than
    max_pixels_per_byte pixels per byte of its file is refused (413) from
    its header; a photo-like one, or one of at most SMALL_PICTURE pixels,
    is classified whatever its compression."""
    from skfashion.serve import _images

    pipe, _ = mlp_client
    side = int(_images.SMALL_PICTURE**0.5)  # 1024: exactly SMALL_PICTURE pixels
    flat = png(np.full((side + 1, side), 200, np.uint8))  # a few KB
    small_flat = png(np.full((side, side), 200, np.uint8))
    noise = np.random.default_rng(0).integers(0, 256, (side + 1, side), np.uint8)
    photo_like = png(noise)  # about a byte a pixel
    assert (side + 1) * side / len(flat) > 256 > (side + 1) * side / len(photo_like)

    def post(client, data):
        return client.post("/predict", files=[("files", ("p.png", data, "image/png"))])

    with client_of(make_app(pipe)) as c:
        refused = post(c, flat)
        assert refused.status_code == 413
        error = refused.json()["error"]
        assert f"p.png: {side}x{side + 1} pixels in {len(flat):,} bytes" in error
        assert "over the limit of 256 pixels a byte" in error
        assert post(c, small_flat).status_code == 200
        assert post(c, photo_like).status_code == 200
    with client_of(make_app(pipe, max_pixels_per_byte=10**6)) as c:
        assert post(c, flat).status_code == 200


def test_picture_pool_refuses_beyond_its_queue():
    from skfashion.serve import _images

    gate = threading.Event()
    pool = _images.PicturePool(workers=1, max_waiting=1, timeout=PATIENCE)
    pool._decode_all = lambda *args: gate.wait(PATIENCE) and (None, None)
    pool.start()

    async def main():
        busy = [
            asyncio.ensure_future(pool.decode([], side=28, max_pixels=1))
            for _ in range(2)
        ]  # one decoding, one waiting: the limit
        await asyncio.sleep(0)
        with pytest.raises(_images.ClientError, match="server is busy") as info:
            await pool.decode([], side=28, max_pixels=1)
        gate.set()
        await asyncio.gather(*busy)
        return info.value

    try:
        refused = asyncio.run(main())
    finally:
        pool.stop()
    assert refused.status == 503 and refused.headers == {"Retry-After": "1"}


# -- what every request passes through ---------------------------------------


def test_hosts_and_other_sites_are_refused(mlp_folder):
    pipe, _ = mlp_folder
    app = make_app(pipe, allowed_hosts=["localhost", "[::1]"])
    with TestClient(app, base_url="http://localhost:8000") as client:
        assert client.get("/v2/health/live").status_code == 200
        for host in ("localhost", "LOCALHOST:80", "[::1]:8000"):
            ok = client.get("/v2/health/live", headers={"Host": host})
            assert ok.status_code == 200, host
        # DNS rebinding: a page of evil.example, its name now this machine's
        rebound = client.get("/v2/models/skfashion", headers={"Host": "evil.example"})
        assert rebound.status_code == 400
        assert (
            "'evil.example' is not one this server answers" in rebound.json()["error"]
        )
        good = json.dumps(tensor(np.zeros((1, 784)))).encode()
        same = {"Origin": "http://localhost:8000"}
        assert client.post(INFER, content=good, headers=same).status_code == 200
        other = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
        refused = client.post(INFER, content=good, headers=other)
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        preflight = client.options(INFER, headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in preflight.headers


def test_every_answer_has_the_security_headers(mlp_client):
    _, client = mlp_client
    for url in ("/", "/static/app.js", "/docs", "/v2/health/live", "/nowhere"):
        headers = client.get(url).headers
        assert headers["x-content-type-options"] == "nosniff", url
    for url in ("/", "/static/app.js", "/docs"):  # what a browser shows
        headers = client.get(url).headers
        assert headers["x-frame-options"] == "DENY", url
        assert headers["referrer-policy"] == "no-referrer", url
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_errors_quote_what_was_sent_briefly(mlp_client):
    _, client = mlp_client
    huge = {"inputs": [{**tensor(np.zeros((1, 784)))["inputs"][0]}]}
    huge["inputs"][0]["datatype"] = "A" * 200_000
    response = client.post(INFER, json=huge)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("datatype 'AAAA") and "200,002 characters" in error
    assert len(error) < 400


@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_token_is_refused(mlp_folder, token):
    with pytest.raises(ValueError, match="token must be a non-empty string"):
        make_app(mlp_folder[0], token=token)
