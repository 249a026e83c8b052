"""Serving: ``skfashion serve`` under load, next to the HTTP floor and to
onnxruntime in one process.

Each model (the default architectures, trained one epoch on 1,000 images:
the weights do not change the speed) is exported by ``export_onnx`` and
served by ``skfashion serve`` (onnxruntime, dynamic batching) on loopback.
A load generator in a process of its own (``benchmarks/_load.py``: one
keep-alive connection per client, each sending its next request when the
last is answered) sends a bounded number of requests after a warm-up:

- ``health_rps``: ``GET /v2/health/live`` with 32 clients, the cheapest
  route: what HTTP itself costs on this machine (a plain Starlette route,
  as inference is); ``fastapi_route_rps``: ``GET /v2``, an ordinary FastAPI
  route returning a small JSON object, for scale;
- per model and for 1, 8 and 32 clients: ``POST /v2/models/{name}/infer``
  with one image (UINT8 JSON tensor) per request; requests per second, median
  and 99th-percentile latency;
- ``inprocess_ips_64``: the same graph in onnxruntime in this process at
  batch 64, images per second (the server's session settings);
- ``engines``: the per-model measurements for each engine --
  ``skfashion`` (ours, also under ``models``) and ``kserve`` (``skfashion
  serve --engine kserve``: KServe's ModelServer, the same graph, clients,
  requests and keys; skipped without the kserve extra).

Goals on 2 cores with 32 clients: FashionMLP and FastFashionCNN serve at
least 50 % of ``health_rps``, FashionCNN at least 70 % of its
``inprocess_ips_64``; with 1 client the MLP's p99 is at most 10 ms.
"""

import contextlib
import importlib.util
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from skfashion import export_onnx, fetch_fashion_mnist
from skfashion.neural_network import CLASSIFIERS
from skfashion.utils import cpu_detail, cpu_name

from ._common import machine
from ._serving import serving, serving_kserve
from .bench_onnx import _model

OWN_JSON = True
CLIENTS = (1, 8, 32)
#: requests per measurement: (health, {model: (1 client, 8 and 32 clients)})
COUNTS = {
    False: (20000, {"mlp": (3000, 10000), "fast": (2000, 8000), "cnn": (300, 2000)}),
    True: (4000, {"mlp": (500, 2000), "fast": (400, 1500), "cnn": (60, 300)}),
}


def _load(url, path, bodies, clients, n, folder):
    """Run the load generator in a process of its own; its JSON result."""
    bodies_file = Path(folder) / "bodies.json"
    bodies_file.write_text(json.dumps(bodies))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks._load",
            url,
            path,
            str(bodies_file),
            "--clients",
            str(clients),
            "--requests",
            str(n),
            "--warmup",
            str(min(n // 4, 500)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"the load generator failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _bodies(X):
    return [
        json.dumps(
            {
                "inputs": [
                    {
                        "name": "images",
                        "datatype": "UINT8",
                        "shape": [1, X.shape[1]],
                        "data": row.tolist(),
                    }
                ]
            }
        )
        for row in X[:64]
    ]


def _inprocess_ips(path, X, repeats):
    from skfashion.io import OnnxModel

    graph = OnnxModel(path)  # the server's own way of running the graph
    batch = np.resize(X, (64, X.shape[1]))
    for _ in range(5):
        graph.predict_proba(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        graph.predict_proba(batch)
        times.append(time.perf_counter() - start)
    return round(64 / float(np.median(times)), 1)


def _engine(engine, path):
    """``(process, url)`` of a server of ``engine`` for the graph ``path``."""
    if engine == "kserve":
        return serving_kserve(path, "--max-images", "64")
    return _ours(path)


@contextlib.contextmanager
def _ours(path):
    with serving(path) as (proc, url, _):
        yield proc, url


def _serve_model(name, path, X, counts, folder, engine="skfashion"):
    n1, n_many = counts
    result = {"inprocess_ips_64": _inprocess_ips(path, X, 50)}
    result["clients"] = {}
    with _engine(engine, path) as (_, url):
        for clients in CLIENTS:
            n = n1 if clients == 1 else n_many
            result["clients"][str(clients)] = _load(
                url, "/v2/models/skfashion/infer", _bodies(X), clients, n, folder
            )
    return result


def run(quick=True, out="benchmarks/results"):
    data = fetch_fashion_mnist(subset="train")
    X, y = data.data[:1000], data.target[:1000]
    n_health, counts = COUNTS[quick]
    record = {
        "cpu": cpu_name(),
        "cpu_detail": cpu_detail(),
        "machine": machine(),
        "quick": quick,
    }
    rows = []
    with TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with serving(_export("mlp", X, y, tmp)) as (_, url, _):
            health = _load(url, "/v2/health/live", [], 32, n_health, tmp)
            # for scale: an ordinary FastAPI route (the server's metadata)
            plain = _load(url, "/v2", [], 32, n_health, tmp)
        record["health_rps"] = health["rps"]
        record["health"] = health
        record["fastapi_route_rps"] = plain["rps"]
        record["models"] = {}
        record["engines"] = {"skfashion": record["models"]}
        engines = ["skfashion"]
        if importlib.util.find_spec("kserve") is not None:
            engines.append("kserve")
            record["engines"]["kserve"] = {}
        for name in CLASSIFIERS:
            path = _export(name, X, y, tmp)
            for engine in engines:
                result = _serve_model(name, path, X, counts[name], tmp, engine)
                record["engines"][engine][name] = result
                rows += _rows(name, result, record["health_rps"], engine)
    path = Path(out) / "serve.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    path.with_suffix(".rst").write_text(rst_table(record))
    return [
        {"model": "health", "clients": 32, "rps": health["rps"]},
        {"model": "fastapi route", "clients": 32, "rps": plain["rps"]},
    ] + rows


def _export(name, X, y, folder):
    path = Path(folder) / f"{name}.onnx"
    if not path.exists():
        export_onnx(_model(name, X, y), path)
    return path


def _rows(name, result, health_rps, engine):
    return [
        {
            "engine": engine,
            "model": name,
            "clients": clients,
            **{k: v for k, v in r.items() if k not in ("requests", "clients")},
            "of_health": round(r["rps"] / health_rps, 2),
            "of_inprocess_64": round(r["rps"] / result["inprocess_ips_64"], 2),
        }
        for clients, r in result["clients"].items()
    ]


def rst_table(record):
    """The docs' table of a record (``serve.rst`` beside the JSON)."""
    health = record["health_rps"]
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - model",
        "     - 1 client (requests/s, p50 / p99 ms)",
        "     - 8 clients",
        "     - 32 clients",
        "     - 32 clients, of the HTTP floor",
        "     - in one process, batch 64 (images/s)",
    ]
    for name, r in record["models"].items():
        cells = [
            f"{c['rps']:,.0f} ({c['p50_ms']:.1f} / {c['p99_ms']:.1f})"
            for c in r["clients"].values()
        ]
        many = r["clients"]["32"]["rps"]
        lines += [f"   * - {name}", *(f"     - {c}" for c in cells)]
        lines += [
            f"     - {many / health:.0%}",
            f"     - {r['inprocess_ips_64']:,.0f} (served: "
            f"{many / r['inprocess_ips_64']:.0%})",
        ]
    lines += [
        "",
        f"The HTTP floor, ``GET /v2/health/live`` with 32 clients: {health:,.0f} "
        f"requests/s (an ordinary FastAPI route, ``GET /v2``: "
        f"{record['fastapi_route_rps']:,.0f}). Measured on "
        f"{record.get('cpu_detail', record['cpu'])} "
        f"({record['machine'].get('cpu_cores')} cores), server and load generator "
        "on the same machine.",
        "",
    ]
    kserve = record.get("engines", {}).get("kserve")
    if kserve:
        lines += _engines_table(record["models"], kserve)
    return "\n".join(lines)


def _engines_table(ours, kserve):
    """Our engine beside KServe's, requests/s (p99 ms) per clients."""
    lines = [
        "The same graphs, clients and requests in KServe's ModelServer "
        "(``skfashion serve --engine kserve``), beside ours:",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - model",
        *(
            f"     - {c} client{'s' if c > 1 else ''}: skfashion / KServe"
            for c in CLIENTS
        ),
        "     - KServe, of skfashion (32 clients)",
    ]
    for name, theirs in kserve.items():
        mine = ours[name]["clients"]
        cells = [
            f"{mine[str(c)]['rps']:,.0f} / {theirs['clients'][str(c)]['rps']:,.0f} "
            f"req/s (p99 {mine[str(c)]['p99_ms']:.1f} / "
            f"{theirs['clients'][str(c)]['p99_ms']:.1f} ms)"
            for c in CLIENTS
        ]
        ratio = theirs["clients"]["32"]["rps"] / mine["32"]["rps"]
        lines += [
            f"   * - {name}",
            *(f"     - {c}" for c in cells),
            f"     - {ratio:.2f}x",
        ]
    return [*lines, ""]
