"""A skfashion model in KServe's own model server (``kserve.ModelServer``):
the custom predictor a KServe ``InferenceService`` runs."""

import uuid

import numpy as np
from kserve import Model
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse

from ._dataplane import DataPlane
from ._errors import ClientError

__all__ = ["KServeModel", "json_by_default"]


class KServeModel(Model):
    """A fitted skfashion model as a KServe custom predictor.

    Answers the Open Inference Protocol (v2) in KServe's ``ModelServer``,
    over REST and gRPC, with what ``skfashion serve`` answers: the input
    ``images`` (``[n, n_pixels]``, 0-255, any of the v2 datatypes ``serve``
    takes), the outputs ``label`` and ``probabilities`` (and
    ``garment_score``, asked for by name, when the model has a novelty
    detector), the same metadata and the same checks, since both call one
    :class:`DataPlane`: a bad tensor is refused with the message ``serve``
    gives (KServe answers it as a 400, or gRPC's ``INVALID_ARGUMENT``). The
    model runs in KServe's thread pool, not on its event loop.

    ``skfashion serve --engine kserve`` runs it; needs the ``kserve`` extra
    (``pip install "skfashion[kserve]"``).

    Parameters
    ----------
    name : str
        The model's name in ``/v2/models/{name}``.
    predictor : Predictor
        What :func:`~skfashion.io.load_predictor` loads.
    max_images : int, default=256
        Most images in one request.

    Examples
    --------
    >>> from kserve import ModelServer
    >>> from skfashion.io import load_predictor
    >>> from skfashion.serve import KServeModel
    >>> predictor = load_predictor("report/fast")  # doctest: +SKIP
    >>> model = KServeModel("skfashion", predictor)  # doctest: +SKIP
    >>> ModelServer(http_port=8080, grpc_port=8081).start([model])  # doctest: +SKIP
    """

    def __init__(self, name, predictor, *, max_images=256):
        super().__init__(name)
        self.predictor = predictor
        self.max_images = max_images
        self.data_plane = DataPlane(predictor, name, max_images=max_images)
        self.ready = True

    def get_input_types(self):
        return self.data_plane.metadata()["inputs"]

    def get_output_types(self):
        return self.data_plane.metadata()["outputs"]

    async def predict(self, payload, headers=None, response_headers=None):
        if not isinstance(payload, InferRequest):
            raise InvalidInput(
                f"skfashion answers the v2 protocol: POST /v2/models/{self.name}/infer"
            )
        request = {
            "inputs": [
                {"name": i.name, "datatype": i.datatype, "shape": list(i.shape)}
                for i in payload.inputs
            ],
            "outputs": [{"name": o.name} for o in payload.request_outputs or []],
        }
        try:
            decoded = self.data_plane.decode_tensors(
                request, payload.inputs[0].as_numpy
            )
        except ClientError as exc:
            raise InvalidInput(exc.message) from None
        answer = await self.data_plane.infer(decoded)  # in KServe's thread pool
        return InferResponse(
            response_id=payload.id or str(uuid.uuid4()),  # KServe needs one
            model_name=self.name,
            model_version="1",
            # gRPC clients read raw bytes (Triton's does nothing else)
            infer_outputs=[_output(t, payload.from_grpc) for t in answer["outputs"]],
        )


def _output(tensor, raw):
    data = np.asarray(tensor["data"])
    if tensor["datatype"] == "BYTES":
        data = data.astype(object)
    elif tensor["datatype"] == "INT64":
        data = data.astype(np.int64)
    else:
        data = data.astype(np.float32)
    output = InferOutput(tensor["name"], tensor["shape"], tensor["datatype"])
    output.set_data_from_numpy(data.reshape(tensor["shape"]), binary_data=raw)
    return output


class json_by_default:
    """ASGI middleware for KServe's REST server: an inference request with
    neither a ``Content-Type`` nor an ``inference-header-content-length``
    header is JSON, as Triton's server reads it (Triton's HTTP client sends
    JSON requests without a ``Content-Type``; KServe would read the body as
    binary tensors and refuse it)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            names = {name.lower() for name, _ in scope["headers"]}
            if not names & {b"content-type", b"inference-header-content-length"}:
                headers = [*scope["headers"], (b"content-type", b"application/json")]
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)
