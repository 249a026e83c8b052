"""The web application: the page, ``/predict``, the Open Inference Protocol
(v2) and ``/metrics``, around one model and its batcher."""

import asyncio
import contextlib
import dataclasses
import logging
import os
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from .._version import __version__
from ..io import Predictor
from . import _v2
from ._batcher import CANCELS, GONE, DynamicBatcher, NotRunning, Overloaded
from ._dataplane import DataPlane
from ._errors import ClientError
from ._guard import Guard, Metrics
from ._images import PicturePool
from ._settings import ServeSettings

__all__ = ["make_app"]

INFER_ROUTE = "/v2/models/{name}/infer"
INFER_LIMIT = "for the images one request may hold"

STATIC = Path(__file__).parent / "static"
logger = logging.getLogger("skfashion.serve")


def make_app(model, settings=None, **overrides):
    """A FastAPI application that serves a fitted classifier.

    Routes: ``GET /`` (a web page: drop photos, see what the model sees
    and its top classes; "About this model": its card), ``POST /predict``
    (picture uploads, multipart field ``files``), ``GET /card`` (the model
    card of a :class:`~skfashion.io.Predictor` that has one, as JSON), the
    Open Inference Protocol v2 (``/v2/health/live``,
    ``/v2/health/ready``, ``/v2/models/{name}``,
    ``/v2/models/{name}/infer``), ``GET /metrics`` (Prometheus) and the
    OpenAPI page ``/docs``. Concurrent requests share calls of the model
    (:class:`DynamicBatcher`). Every error is a JSON ``{"error": ...}``
    with a 4xx status that names the problem (5xx: the server's fault,
    without details; they go to the server's log). :func:`run` serves it
    with the connection limits; any ASGI server can run it too.

    Parameters
    ----------
    model : fitted classifier or Predictor
        A pipeline such as ``make_pipeline(PixelScaler(), FashionMLP())``,
        a model loaded by :func:`skfashion.load_model` or
        :func:`skfashion.io.load_predictor`, or any fitted classifier with
        ``classes_`` and ``predict_proba`` that takes rows of 0-255 pixels.
        A predictor's ``card`` (:func:`~skfashion.io.load_predictor` finds
        the card beside the model's file) is shown.
    settings : ServeSettings, default=None
        The name, the token, the ``Host`` headers answered (by default
        this machine's own names only) and the limits; None: the defaults.
    **overrides
        Fields of :class:`ServeSettings` that replace those of
        ``settings`` (``make_app(model, max_images=4)``).

    Returns
    -------
    app : fastapi.FastAPI
        Run it with :func:`run` or any ASGI server.

    Examples
    --------
    >>> import numpy as np
    >>> from fastapi.testclient import TestClient
    >>> from sklearn.dummy import DummyClassifier
    >>> from skfashion.serve import make_app
    >>> model = DummyClassifier().fit(np.zeros((2, 784)), [0, 1])
    >>> app = make_app(model, max_images=4)
    >>> with TestClient(app, base_url="http://localhost") as client:
    ...     client.get("/v2/models/skfashion").json()["class_names"]
    ['T-shirt/top', 'Trouser']
    """
    settings = dataclasses.replace(settings or ServeSettings(), **overrides)
    s = settings
    picture_workers = s.picture_workers or min(4, os.cpu_count() or 1)
    served = model if isinstance(model, Predictor) else Predictor(model)
    metrics = Metrics()
    batcher = _batcher(served, metrics, s)
    pictures = PicturePool(picture_workers, 16 * picture_workers, s.picture_timeout)
    app = FastAPI(
        title="skfashion serve",
        version=__version__,
        description=f"Serves a Fashion-MNIST classifier: {served.describe()}.",
        lifespan=_lifespan(served, batcher, pictures),
    )
    app.state.served, app.state.batcher, app.state.metrics = served, batcher, metrics
    app.state.settings = settings
    _add_error_handlers(app)
    plane = DataPlane(served, s.name, max_images=s.max_images)
    _add_v2_routes(app, plane)  # the busiest first
    _add_health_routes(app)
    _serve_lean(app, HOT_ROUTES)
    _add_page_routes(app, served, pictures, s)
    _add_card_route(app, served)
    _add_metrics_route(app, metrics)
    # an infer body is bounded by what max_images images can need
    infer = (plane.body_limit(), INFER_LIMIT)
    guard = {"metrics": metrics, "token": s.token, "allowed_hosts": s.hosts()}
    app.add_middleware(
        Guard, max_body=s.max_upload_bytes, route_limits={INFER_ROUTE: infer}, **guard
    )
    return app


def _batcher(served, metrics, settings):
    batcher = DynamicBatcher(
        served.answer,  # with a detector, its garment scores too
        max_batch=settings.max_batch,
        max_delay=settings.max_delay,
        max_queue=settings.max_queue,
        timeout=settings.queue_timeout,
    )
    batcher.on_batch = metrics.batch_size.observe
    return batcher


def _lifespan(served, batcher, pictures):
    """The workers' lives: started before the first request, stopped after
    the last one."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        pictures.start()
        try:
            async with batcher:
                # the first call is slow (allocations, kernels): not a client's
                await batcher.predict(np.zeros((1, served.n_features), np.float32))
                yield
        finally:
            pictures.stop()

    return lifespan


async def _predict(batcher, X, scope):
    """The model's rows for ``X``; dropped uncomputed if the client leaves
    while they wait (the server's connection guard says so in ``scope``)."""
    try:
        return await batcher.predict(X, cancels=scope.setdefault(CANCELS, []))
    except asyncio.CancelledError:
        if scope.get(GONE):
            raise ClientError(499, "the client left before its answer") from None
        raise
    except Overloaded as exc:
        raise ClientError(
            503, f"the server is busy: {exc}", {"Retry-After": "1"}
        ) from None
    except NotRunning as exc:  # stopping
        raise ClientError(503, f"the server is stopping ({exc})") from None


def _add_error_handlers(app):
    async def http_error(request, exc):
        status = exc.status_code
        message = exc.detail
        if status == 404 and message == "Not Found":
            message = f"no route {request.url.path}"
        elif status == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return JSONResponse({"error": message}, status, headers=exc.headers)

    async def invalid(request, exc):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors()
        )
        hint = ""
        if request.url.path == "/predict":
            hint = " (send pictures as multipart/form-data field 'files')"
        return JSONResponse({"error": f"{problems}{hint}"}, 400)

    async def crash(request, exc):
        logger.exception("error answering %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal error (the server's log has the details)"}, 500
        )

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, crash)


def _card_json(card):
    """A model card as ``GET /card`` answers it: its title, its
    ``model-index`` results, its YAML metadata and its markdown body."""
    data = card.data
    results = [
        {
            "metric": r.metric_name or r.metric_type,
            "dataset": r.dataset_name,
            "split": r.dataset_split,
            "value": r.metric_value,
        }
        for r in data.eval_results or []
    ]
    return {
        "title": data.model_name,
        "results": results,
        "metadata": data.to_dict(),
        "markdown": card.text,
    }


def _add_card_route(app, served):
    card = None if served.card is None else _card_json(served.card)

    @app.get("/card", summary="The model card")
    async def model_card():
        """The served model's card (its README.md, written by ``skfashion
        report`` or ``save_model(..., card=...)``): ``title``, ``results``
        (metric, dataset, split, value), ``metadata`` (the YAML header) and
        ``markdown`` (the body). 404 where the model has none."""
        if card is None:
            raise ClientError(
                404,
                "this model has no card: serve a model file with its README.md "
                "beside it (skfashion report writes one; so does "
                "save_model(..., card=True))",
            )
        return card


def _add_page_routes(app, served, pictures, settings):
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html")

    @app.post("/predict", summary="Classify uploaded pictures")
    async def predict(
        request: Request,
        files: Annotated[
            list[UploadFile], File(description="pictures (PNG, JPEG, ...)")
        ],
        top: Annotated[int, Query(ge=1, description="classes per picture")] = 3,
    ):
        """Each picture's label, its top classes with their probabilities
        (``predict_proba``) and ``view``: the 28x28 picture the model
        received, as a PNG data URL. A model with a novelty detector adds
        ``garment`` (false: it does not look like a garment),
        ``garment_score`` and ``garment_threshold``."""
        if len(files) > settings.max_images:
            raise ClientError(
                413, f"{len(files)} pictures; the limit is {settings.max_images}"
            )
        uploads = [
            (f.filename or f"file {i + 1}", await f.read()) for i, f in enumerate(files)
        ]
        X, views = await pictures.decode(
            uploads,
            side=served.side,
            max_pixels=settings.max_pixels,
            max_request_pixels=settings.max_request_pixels,
            max_pixels_per_byte=settings.max_pixels_per_byte,
        )
        answer = served.split_answer(
            await _predict(app.state.batcher, X, request.scope)
        )
        return {"predictions": _described(served, uploads, answer, views, top)}


def _described(served, uploads, answer, views, top):
    proba, scores, accepted = answer
    described = [
        {"file": filename, "label": best[0]["label"], "top": best, "view": view}
        for (filename, _), best, view in zip(
            uploads, served.top(proba, top), views, strict=True
        )
    ]
    if scores is not None:  # the model has a novelty detector
        threshold = round(float(served.detector.offset_), 4)
        for one, score, ok in zip(described, scores, accepted, strict=True):
            one["garment"] = bool(ok)
            one["garment_score"] = round(float(score), 4)
            one["garment_threshold"] = threshold
    return described


#: the routes every request of a load goes through (inference) or that a
#: load balancer asks many times a second (health)
HOT_ROUTES = (
    "/v2/models/{model_name}/infer",
    "/v2/models/{model_name}/versions/{version}/infer",
    "/v2/health/live",
    "/v2/health/ready",
)


def _serve_lean(app, paths):
    """Answer ``paths`` through plain Starlette routes, matched first.

    FastAPI's route for a path reads its parameters through its dependency
    machinery: about 30 microseconds a request, a quarter of the cheapest
    answer. These endpoints take only the request, so Starlette can call
    them directly; FastAPI's routes stay, for the OpenAPI page.
    """
    from starlette.routing import Route

    by_path = {r.path: r for r in app.router.routes if r.path in paths}
    for path in reversed(paths):
        route = by_path[path]
        lean = Route(path, route.endpoint, methods=route.methods, name=route.name)
        app.router.routes.insert(0, lean)


def _add_health_routes(app):
    @app.get("/v2/health/live", summary="v2: the server is up")
    async def live(request: Request):
        return Response(b'{"live":true}', media_type="application/json")

    @app.get("/v2/health/ready", summary="v2: the server takes requests")
    async def ready(request: Request):
        return Response(b'{"ready":true}', media_type="application/json")

    @app.get("/v2", summary="v2: server metadata")
    async def server():
        return _v2.server_metadata()


INFER_OPENAPI = {
    "parameters": [
        {
            "name": "model_name",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "example": {
                    "inputs": [
                        {
                            "name": "images",
                            "datatype": "UINT8",
                            "shape": [1, 784],
                            "data": [0] * 784,
                        }
                    ]
                }
            }
        },
    },
}


def _add_v2_routes(app, plane):
    # the route of every inference first: routes are matched in order
    @app.post(
        "/v2/models/{model_name}/infer",
        summary="v2: classify tensors",
        openapi_extra=INFER_OPENAPI,
    )
    @app.post(
        "/v2/models/{model_name}/versions/{version}/infer", include_in_schema=False
    )
    async def infer(request: Request):
        """JSON tensors: input ``images`` (``[n, 784]``, 0-255, FP32 or
        UINT8) -> outputs ``label`` and ``probabilities`` (and
        ``garment_score``, asked for, with a novelty detector)."""
        # the path's names read here, not as FastAPI parameters: that would
        # cost more than the rest of the request
        plane.check_model(request.path_params["model_name"])
        decoded = plane.decode(
            await request.body(), request.headers.get("inference-header-content-length")
        )

        async def compute(X):
            return await _predict(app.state.batcher, X, request.scope)

        answer = await plane.infer(decoded, compute)
        return Response(_v2.dumps(answer), media_type="application/json")

    @app.get("/v2/models/{model_name}", summary="v2: the model's inputs and outputs")
    @app.get("/v2/models/{model_name}/versions/{version}", include_in_schema=False)
    async def metadata(model_name: str, version: str = "1"):
        plane.check_model(model_name)
        return plane.metadata()

    @app.get("/v2/models/{model_name}/ready", summary="v2: the model is ready")
    @app.get(
        "/v2/models/{model_name}/versions/{version}/ready", include_in_schema=False
    )
    async def model_ready(model_name: str, version: str = "1"):
        plane.check_model(model_name)
        return {"name": plane.name, "ready": True}


def _add_metrics_route(app, metrics):
    @app.get("/metrics", summary="Prometheus metrics")
    async def exposition():
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)
