"""The Open Inference Protocol (v2, KServe / Triton / MLServer): tensors in
JSON, checked before the model sees them."""

import json

import numpy as np
import orjson

from .._version import __version__
from ._errors import ClientError
from ._guard import quoted

__all__ = [
    "body_limit",
    "dumps",
    "infer_response",
    "loads",
    "model_metadata",
    "check_pixels",
    "output_names",
    "parse_decoded",
    "parse_infer",
    "server_metadata",
]

INPUT = "images"
OUTPUTS = ("label", "probabilities")  # given when none is asked for
SCORE = "garment_score"  # a novelty detector's, when the model has one
#: datatypes accepted for the input; the metadata advertises FP32
DATATYPES = {
    "UINT8": np.uint8,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}


#: bytes a value may take in JSON ("1.2345678901234567e-05, " and indents)
_VALUE_BYTES = 32
#: bytes of a request's JSON besides its values
_HEAD_BYTES = 65536


def body_limit(n_features, max_images):
    """The largest body an inference request can need: the JSON of
    ``max_images`` images of ``n_features`` values (or their bytes), and
    its head. A larger one is refused before it is read or parsed."""
    return _HEAD_BYTES + _VALUE_BYTES * n_features * max_images


def loads(body):
    """JSON -> Python, quickly (orjson); a body orjson refuses is read again
    by the standard library, which takes NaN and Infinity (so that the
    error can name them) and explains the rest."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ClientError(400, f"the body is not JSON ({exc})") from None
        except RecursionError:
            raise ClientError(
                400, "the body is not JSON this server reads (nested too deep)"
            ) from None


def dumps(answer):
    """Python (NumPy arrays included) -> JSON bytes."""
    return orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)


def server_metadata():
    return {"name": "skfashion", "version": __version__, "extensions": []}


def _label_type(served):
    return "INT64" if served.classes_.dtype.kind in "iu" else "BYTES"


def model_metadata(served, name):
    """``GET /v2/models/{name}``: inputs, outputs, and the classes."""
    n_classes = len(served.classes_)
    answer = {
        "name": name,
        "versions": ["1"],
        "platform": served.platform,
        "inputs": [
            {"name": INPUT, "datatype": "FP32", "shape": [-1, served.n_features]}
        ],
        "outputs": [
            {"name": "label", "datatype": _label_type(served), "shape": [-1]},
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, n_classes]},
        ],
        "classes": served.classes_.tolist(),
        "class_names": served.class_names,
        "parameters": {
            "pixels": "0-255, row by row, white garment on black (Fashion-MNIST)",
            "accepted_datatypes": list(DATATYPES),
        },
    }
    if served.detector is not None:  # asked for by name, not by default
        answer["outputs"].append({"name": SCORE, "datatype": "FP32", "shape": [-1]})
        answer["parameters"][f"{SCORE}_threshold"] = float(served.detector.offset_)
        answer["parameters"]["novelty_method"] = served.detector.method
    return answer


def _tensor(request, served, max_images):
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1:
        raise ClientError(400, f"'inputs' must be a list of one tensor, '{INPUT}'")
    tensor = inputs[0]
    if not isinstance(tensor, dict) or tensor.get("name") != INPUT:
        name = tensor.get("name") if isinstance(tensor, dict) else tensor
        raise ClientError(
            400, f"unknown input {quoted(name)}: the model takes {INPUT!r}"
        )
    datatype, shape = tensor.get("datatype"), tensor.get("shape")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise ClientError(
            400, f"datatype {quoted(datatype)} is not one of {', '.join(DATATYPES)}"
        )
    n = served.n_features
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in shape)
        or shape[1] != n
        or shape[0] < 1
    ):
        raise ClientError(
            400, f"shape {quoted(shape)} is not [n_images, {n}] with n >= 1"
        )
    if shape[0] > max_images:
        raise ClientError(
            413, f"{shape[0]} images in one request; the limit is {max_images}"
        )
    return tensor, datatype, shape


def _binary(tensor, datatype, shape, tail):
    """The tensor's values sent after the JSON (Triton's binary extension)."""
    parameters = tensor.get("parameters")
    if not isinstance(parameters, dict):
        raise ClientError(
            400,
            "the input's 'parameters' must be an object with 'binary_data_size' "
            "when its values follow the JSON",
        )
    size = parameters.get("binary_data_size")
    dtype = np.dtype(DATATYPES[datatype]).newbyteorder("<")
    if not isinstance(size, int) or size != len(tail):
        raise ClientError(
            400,
            f"binary_data_size {quoted(size)} does not match the {len(tail)} bytes "
            "sent",
        )
    if size != shape[0] * shape[1] * dtype.itemsize:
        raise ClientError(
            400,
            f"shape {shape} of {datatype} needs {shape[0] * shape[1] * dtype.itemsize}"
            f" bytes, got {size}",
        )
    return np.frombuffer(tail, dtype=dtype)


def _from_json(data, datatype):
    """A tensor's JSON values as an array (not yet checked)."""
    if datatype == "UINT8" and isinstance(data, list):
        # the common case, 4x faster than np.array: bytes() takes only
        # integers in 0-255 (a flat list); anything else is read below
        try:
            return np.frombuffer(bytes(data), np.uint8)
        except (TypeError, ValueError):
            pass
    try:
        return np.array(data)
    except (ValueError, TypeError):  # ragged nesting
        raise ClientError(400, "'data' is not a list of numbers") from None


def _values(tensor, datatype, shape, tail=None):
    if tail is not None:
        data = _binary(tensor, datatype, shape, tail)
    else:
        # its length checked before anything is converted
        data = tensor.get("data")
        if not isinstance(data, list):
            raise ClientError(400, "'data' is not a list of numbers")
        if len(data) not in (shape[0], shape[0] * shape[1]):
            raise ClientError(
                400,
                f"shape {shape} needs {shape[0] * shape[1]} values (or {shape[0]} "
                f"lists of {shape[1]}), got a list of {len(data)}",
            )
        data = _from_json(data, datatype)
    return check_pixels(data, datatype, shape)


def check_pixels(data, datatype, shape):
    """A tensor's values (any array) as checked rows of pixels: numbers of
    the ``shape`` and in [0, 255], whole for an integer ``datatype``."""
    if data.dtype.kind not in "iuf":
        raise ClientError(400, "'data' must hold numbers only")
    if data.size != shape[0] * shape[1]:
        raise ClientError(
            400, f"shape {shape} needs {shape[0] * shape[1]} values, got {data.size}"
        )
    if data.dtype == np.uint8:  # pixels whatever their values
        return data.reshape(shape)
    if not np.isfinite(data).all():
        raise ClientError(400, "'data' holds NaN or infinity")
    low, high = data.min(), data.max()
    if low < 0 or high > 255:
        raise ClientError(
            400, f"pixels must lie in [0, 255], got values from {low} to {high}"
        )
    if datatype not in ("FP16", "FP32", "FP64") and data.dtype.kind == "f":
        if not np.array_equal(data, np.round(data)):
            raise ClientError(400, f"{datatype} data must be whole numbers")
    return data.reshape(shape).astype(np.float32)


def _split(body, header_length):
    """The JSON part of a body and the binary part after it, if any."""
    if header_length is None:
        return body, None
    if (
        not header_length.isascii()
        or not header_length.isdigit()
        or len(header_length) > 19
        or int(header_length) > len(body)
    ):
        raise ClientError(
            400,
            f"Inference-Header-Content-Length {quoted(header_length)} is not a "
            f"size within the body's {len(body)} bytes",
        )
    return body[: int(header_length)], body[int(header_length) :]


def parse_infer(body, served, max_images, header_length=None):
    """A request's body -> (id, images as rows, outputs asked for).

    ``header_length``: the Inference-Header-Content-Length header, when the
    input tensor's bytes follow the JSON (Triton's binary extension).
    """
    body, tail = _split(body, header_length)
    request = loads(body)
    if not isinstance(request, dict):
        raise ClientError(400, "the body must be a JSON object with 'inputs'")
    tensor, datatype, shape = _tensor(request, served, max_images)
    X = _values(tensor, datatype, shape, tail)
    return _request_id(request), X, output_names(request, served)


def parse_decoded(request, served, max_images, values):
    """A request another server decoded (KServe's: ``request`` as the JSON's
    ``inputs`` and ``outputs`` without the data, ``values()`` the input's
    array) -> (images as rows, outputs asked for): the checks of
    :func:`parse_infer`, the same errors."""
    _, datatype, shape = _tensor(request, served, max_images)
    try:
        data = np.asarray(values())
    except (ValueError, TypeError) as exc:
        raise ClientError(400, f"the input's data cannot be read ({exc})") from None
    return check_pixels(data.reshape(-1), datatype, shape), output_names(
        request, served
    )


def output_names(request, served):
    """The outputs a request asks for (by default ``label`` and
    ``probabilities``), checked against what the model gives."""
    wanted = request.get("outputs") or [{"name": o} for o in OUTPUTS]
    if not isinstance(wanted, list) or not all(isinstance(o, dict) for o in wanted):
        raise ClientError(400, "'outputs' must be a list of {'name': ...} objects")
    names = [o.get("name") for o in wanted]
    known = OUTPUTS if served.detector is None else (*OUTPUTS, SCORE)
    unknown = [o for o in names if not isinstance(o, str) or o not in known]
    if unknown:
        raise ClientError(
            400,
            f"unknown output {quoted(unknown[0])}: the model gives {', '.join(known)}",
        )
    return names


def _request_id(request):
    request_id = request.get("id")
    if not isinstance(request_id, str):
        return None
    try:
        request_id.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON allows it, UTF-8 not
        raise ClientError(400, "'id' is not a valid Unicode string") from None
    return request_id


def infer_response(served, name, request_id, rows, outputs):
    """The v2 answer: the ``label``, ``probabilities`` (and
    ``garment_score``) tensors asked for, from
    :meth:`~skfashion.io.Predictor.split_answer`'s ``rows``."""
    proba, scores, _ = rows
    tensors = {
        "label": {
            "name": "label",
            "datatype": _label_type(served),
            "shape": [len(proba)],
            "data": served.classes_[proba.argmax(axis=1)].tolist(),
        },
        "probabilities": {
            "name": "probabilities",
            "datatype": "FP32",
            "shape": list(proba.shape),
            "data": proba.ravel(),
        },
    }
    if scores is not None:
        tensors[SCORE] = {
            "name": SCORE,
            "datatype": "FP32",
            "shape": [len(scores)],
            "data": scores,
        }
    answer = {"model_name": name, "model_version": "1"}
    if request_id is not None:
        answer["id"] = request_id
    answer["outputs"] = [tensors[o] for o in outputs]
    return answer
