"""The Open Inference Protocol (v2) over one model, whatever carries it:
the data plane that ``make_app``'s routes and :class:`KServeModel` both
call, so that the protocol's checks, answers and errors exist once."""

import asyncio
from dataclasses import dataclass

import numpy as np

from . import _v2
from ._errors import ClientError

__all__ = ["DataPlane", "InferenceRequest"]


@dataclass(frozen=True)
class InferenceRequest:
    """A checked v2 inference request: what :class:`DataPlane` decodes.

    Attributes
    ----------
    images : ndarray of shape (n_images, n_features)
        The pixels, 0-255, one row per image.
    outputs : tuple of str
        The outputs asked for, in their order.
    id : str or None
        The request's ``id``, echoed in the answer.
    """

    images: np.ndarray
    outputs: tuple
    id: str | None = None


class DataPlane:
    """The v2 protocol over one fitted model, for any transport.

    A transport (an HTTP route, a gRPC servicer, KServe's ``ModelServer``)
    hands the request over as it received it; the data plane checks it,
    runs the model and gives the v2 answer as a dict, so that every
    transport refuses the same requests with the same message and answers
    the same numbers. ``make_app``'s REST routes and :class:`KServeModel`
    both call it.

    Parameters
    ----------
    predictor : Predictor
        What :func:`~skfashion.io.load_predictor` loads.
    name : str, default="skfashion"
        The model's name in ``/v2/models/{name}``.
    max_images : int, default=256
        Most images in one request.

    Examples
    --------
    >>> import asyncio, json
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfashion.io import Predictor
    >>> from skfashion.serve import DataPlane
    >>> X, y = make_blobs(30, n_features=4, centers=3, random_state=0)
    >>> X = (X - X.min()) / (X.max() - X.min()) * 255
    >>> plane = DataPlane(Predictor(LogisticRegression().fit(X, y)))
    >>> body = {"inputs": [{"name": "images", "shape": [2, 4],
    ...                     "datatype": "FP32", "data": X[:2].ravel().tolist()}]}
    >>> request = plane.decode(json.dumps(body).encode())
    >>> answer = asyncio.run(plane.infer(request))
    >>> [tensor["name"] for tensor in answer["outputs"]]
    ['label', 'probabilities']
    >>> answer["outputs"][0]["data"] == y[:2].tolist()
    True
    """

    def __init__(self, predictor, name="skfashion", *, max_images=256):
        self.predictor = predictor
        self.name = name
        self.max_images = max_images

    def check_model(self, model_name):
        """Raise a 404 :class:`ClientError` unless ``model_name`` is this
        model's."""
        if model_name != self.name:
            raise ClientError(
                404, f"unknown model {model_name!r}; this server serves {self.name!r}"
            )

    def metadata(self):
        """The model's v2 metadata: its name, inputs and outputs."""
        return _v2.model_metadata(self.predictor, self.name)

    def body_limit(self):
        """The most bytes a request of ``max_images`` images can need."""
        return _v2.body_limit(self.predictor.n_features, self.max_images)

    def decode(self, body, header_length=None):
        """A request's body, as sent over REST -> :class:`InferenceRequest`.

        Parameters
        ----------
        body : bytes
            The JSON request, followed by the input's raw bytes when
            ``header_length`` is given (Triton's binary extension).
        header_length : str or int, optional
            The ``Inference-Header-Content-Length`` header.

        Raises
        ------
        ClientError
            Naming what is wrong with the request (a 400).
        """
        request_id, X, outputs = _v2.parse_infer(
            body, self.predictor, self.max_images, header_length
        )
        return InferenceRequest(X, tuple(outputs), request_id)

    def decode_tensors(self, request, values, request_id=None):
        """A request another server decoded -> :class:`InferenceRequest`.

        Parameters
        ----------
        request : dict
            The request's ``inputs`` (each ``name``, ``datatype`` and
            ``shape``, without its data) and ``outputs``.
        values : callable
            Returns the input's data as an array (called once the input's
            name, type and shape have been checked).
        request_id : str, optional
            The request's ``id``.

        Raises
        ------
        ClientError
            With the message :meth:`decode` gives for the same request.
        """
        X, outputs = _v2.parse_decoded(request, self.predictor, self.max_images, values)
        return InferenceRequest(X, tuple(outputs), request_id)

    async def infer(self, request, compute=None):
        """Run the model on a decoded request -> the v2 answer (a dict).

        Parameters
        ----------
        request : InferenceRequest
            What :meth:`decode` or :meth:`decode_tensors` gave.
        compute : coroutine function, optional
            ``await compute(images)`` gives the predictor's
            :meth:`~skfashion.io.Predictor.answer` for them (a batcher's,
            say). By default the predictor answers in the event loop's
            default thread pool.

        Returns
        -------
        answer : dict
            ``model_name``, ``model_version``, ``id`` (when the request had
            one) and the ``outputs`` asked for, each a v2 tensor (``data``
            as an array or a list).
        """
        served = self.predictor
        if compute is None:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(None, served.answer, request.images)
        else:
            answer = await compute(request.images)
        rows = served.split_answer(answer)
        return _v2.infer_response(served, self.name, request.id, rows, request.outputs)
