"""The v2 data plane in process, for every registered classifier alone and
in a pipeline: what both engines answer (``make_app``'s routes and KServe's
``ModelServer`` call it), whichever way the request reached it."""

import asyncio
import json

import numpy as np
import pytest
from cases import CASE_IDS, CASES, blobs, make

from skfashion.io import Predictor
from skfashion.novelty import NoveltyDetector

pytest.importorskip("orjson", reason="needs the serve extra")
from skfashion.serve import DataPlane, InferenceRequest  # noqa: E402


@pytest.fixture(scope="module", params=CASES, ids=CASE_IDS)
def fitted(request):
    """Every registered classifier, alone and after PixelScaler."""
    name, pipeline = request.param
    X, y = blobs(pixels=True)
    model = make(name, pipeline=pipeline).fit(X, y)
    detector = NoveltyDetector(model).fit(X)
    return model, detector, X


def _json_body(X, datatype="FP32", outputs=None, request_id=None):
    body = {
        "inputs": [
            {
                "name": "images",
                "shape": list(X.shape),
                "datatype": datatype,
                "data": X.ravel().tolist(),
            }
        ]
    }
    if outputs is not None:
        body["outputs"] = [{"name": name} for name in outputs]
    if request_id is not None:
        body["id"] = request_id
    return json.dumps(body).encode()


def _binary_body(X, outputs):
    """Triton's binary extension: the tensor's bytes after the JSON."""
    head = {
        "inputs": [
            {
                "name": "images",
                "shape": list(X.shape),
                "datatype": "UINT8",
                "parameters": {"binary_data_size": X.size},
            }
        ],
        "outputs": [{"name": name} for name in outputs],
    }
    head = json.dumps(head).encode()
    return head + X.astype(np.uint8).tobytes(), len(head)


def _decoded(X, datatype, outputs):
    """A request as KServe hands it over: the tensors without their data."""
    request = {
        "inputs": [{"name": "images", "datatype": datatype, "shape": list(X.shape)}],
        "outputs": [{"name": name} for name in outputs],
    }
    return request, lambda: X


def _tensors(answer):
    return {t["name"]: np.asarray(t["data"]) for t in answer["outputs"]}


def test_every_transport_gets_the_models_answer(fitted):
    model, detector, X = fitted
    plane = DataPlane(Predictor(model, detector=detector), "m", max_images=64)
    X = X[:9].round()
    outputs = ("garment_score", "label", "probabilities")
    binary, header_length = _binary_body(X, outputs)
    requests = {
        "json": plane.decode(_json_body(X, outputs=outputs, request_id="r1")),
        "binary": plane.decode(binary, str(header_length)),
        "decoded": plane.decode_tensors(*_decoded(X, "FP32", outputs), "r1"),
    }
    answers = {}
    for how, request in requests.items():
        assert isinstance(request, InferenceRequest)
        assert request.outputs == outputs, how
        np.testing.assert_array_equal(request.images, X.astype(np.float32))
        answers[how] = asyncio.run(plane.infer(request))
        assert [t["name"] for t in answers[how]["outputs"]] == list(outputs)
    assert answers["json"]["id"] == answers["decoded"]["id"] == "r1"
    assert "id" not in answers["binary"]
    for how, answer in answers.items():
        assert answer["model_name"] == "m"
        tensors = _tensors(answer)
        np.testing.assert_array_equal(tensors["label"], model.predict(X), err_msg=how)
        np.testing.assert_allclose(
            tensors["probabilities"].reshape(len(X), -1),
            model.predict_proba(X),
            rtol=1e-5,
            atol=1e-6,
        )
        np.testing.assert_allclose(
            tensors["garment_score"], detector.score_samples(X), rtol=1e-4, atol=1e-4
        )


def test_by_default_label_and_probabilities_computed_where_asked(fitted):
    model, _, X = fitted
    plane = DataPlane(Predictor(model))
    calls = []

    async def compute(images):
        calls.append(len(images))
        return plane.predictor.answer(images)

    request = plane.decode(_json_body(X[:3]))
    answer = asyncio.run(plane.infer(request, compute))
    assert calls == [3]
    assert [t["name"] for t in answer["outputs"]] == ["label", "probabilities"]
    assert answer["outputs"][1]["shape"] == [3, len(model.classes_)]


def test_bad_requests_get_one_message_whatever_the_transport(fitted):
    model, _, X = fitted
    plane = DataPlane(Predictor(model), max_images=4)
    n = X.shape[1]
    cases = {  # message: (status, input's name, data, datatype, outputs)
        "unknown input 'pixels'": (400, "pixels", X[:2], "FP32", ()),
        f"is not [n_images, {n}]": (400, "images", np.zeros((2, n + 1)), "FP32", ()),
        "pixels must lie in [0, 255]": (
            400,
            "images",
            np.full((2, n), 300.0),
            "FP32",
            (),
        ),
        "the limit is 4": (413, "images", np.resize(X, (5, n)), "FP32", ()),
        "unknown output 'garment_score'": (
            400,
            "images",
            X[:2],
            "FP32",
            ["garment_score"],
        ),
        "datatype 'FP8' is not one of": (400, "images", X[:2], "FP8", ()),
    }
    for expected, (status, name, data, datatype, outputs) in cases.items():
        body = json.loads(_json_body(data, datatype, outputs or None))
        body["inputs"][0]["name"] = name
        request, values = _decoded(data, datatype, outputs)
        request["inputs"][0]["name"] = name
        errors = []
        for decode, args in (
            (plane.decode, (json.dumps(body).encode(),)),
            (plane.decode_tensors, (request, values)),
        ):
            with pytest.raises(Exception) as caught:
                decode(*args)
            errors.append((caught.value.status, caught.value.message))
        assert expected in errors[0][1], errors
        assert errors[0] == errors[1] and errors[0][0] == status


def test_another_models_name_is_404(fitted):
    model, _, _ = fitted
    plane = DataPlane(Predictor(model), "shirts")
    plane.check_model("shirts")
    with pytest.raises(Exception, match="unknown model 'shoes'") as caught:
        plane.check_model("shoes")
    assert caught.value.status == 404
    assert plane.metadata()["name"] == "shirts"
    assert plane.body_limit() > 256 * plane.predictor.n_features  # a byte a value
