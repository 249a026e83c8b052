"""Inference: skfashion's predict_proba (PyTorch) vs the exported ONNX graph
(onnxruntime), per model.

Each model is a ``PixelScaler`` + classifier pipeline with its default
architecture (trained one epoch on 1,000 images: the weights do not change
the speed), exported by ``export_onnx`` and run by onnxruntime on the CPU
with as many threads as PyTorch uses (``intra_op_num_threads =
torch.get_num_threads()``). Measured side by side in one process:

- latency of one image: ``N1`` calls each (1,000; 200 with ``--quick``),
  alternating PyTorch and onnxruntime, after 20 warm-up calls; median and
  99th percentile in milliseconds;
- throughput at batch 1,000: images per second, median of 5 calls (3).

The input is uint8 pixels for both (the pipeline's ``PixelScaler`` scales
them). Where ``precision="auto"`` predicts in bfloat16 (CPUs with bfloat16
instructions), PyTorch is also timed in float32, the precision of the graph
(``torch_float32_*``). Goals: for one image onnxruntime >= 2x faster on FashionMLP and
FastFashionCNN and within 10 % on FashionCNN; at batch 1,000 not slower.

Exporting (``export_s_anew``, ``export_s_kept``): the seconds of
``export_onnx`` with PyTorch's table of ONNX functions built anew on each
export (what torch 2.13 with onnxscript 0.7 does alone) and kept from the
first export (what ``export_onnx`` does), alternating, median of 3 each
after one warm-up export.

int8 graphs (``export_onnx(..., quantize="int8", calibration=...)``,
calibrated on the last 500 training images): each model is also trained
briefly on real images (``ACCURACY_TRAINING``: the weights decide the
accuracy, not the speed), exported in float32 and in int8, and both graphs
are scored on the 10,000 test images (``float_accuracy``,
``int8_accuracy``) and timed side by side as above (``onnx_int8_ms_1``,
``onnx_int8_ips_1000``, beside ``onnx_float_ips_1000`` of the same
weights). Goals: int8 accuracy within 0.3 points of float; at batch 1,000
the int8 graph >= 1.5x the float graph and >= 1.0x PyTorch's
``predict_proba`` (bfloat16 where ``precision="auto"`` picks it) for
FashionCNN and FastFashionCNN.
"""

import json
import time
import warnings
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from skfashion import PixelScaler, export_onnx, fetch_fashion_mnist
from skfashion.neural_network import CLASSIFIERS
from skfashion.utils import cpu_detail, cpu_name

from ._common import cores as _cores
from ._common import machine

OWN_JSON = True
CALLS = {False: (1000, 5), True: (200, 3)}  # quick -> (one-image calls, batch calls)
#: per model: (training images, parameters) of the models whose float and
#: int8 graphs are scored; quick: a tenth of the images
ACCURACY_TRAINING = {
    "mlp": (60000, {"max_epochs": 3}),
    "cnn": (12000, {"max_epochs": 1}),
    "fast": (60000, {"max_epochs": 2}),
}


def _model(name, X, y, **params):
    from sklearn.pipeline import make_pipeline

    clf = CLASSIFIERS[name](
        **{"max_epochs": 1, "random_state": 0, "validation_split": None, **params}
    )
    return make_pipeline(PixelScaler(), clf).fit(X, y)


def _session(path):
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _measure(model, session, X, quick):
    n1, nb = CALLS[quick]
    one = X[:1]
    batch = np.resize(X, (1000, X.shape[1]))
    run = lambda x: session.run(["probabilities"], {"input": x})  # noqa: E731
    for _ in range(20):
        model.predict_proba(one)
        run(one)
    torch_1, onnx_1 = [], []
    for i in range(n1):
        x = X[i % len(X) : i % len(X) + 1]
        torch_1.append(_timed(lambda x=x: model.predict_proba(x)))
        onnx_1.append(_timed(lambda x=x: run(x)))
    torch_b = [_timed(lambda: model.predict_proba(batch)) for _ in range(nb)]
    onnx_b = [_timed(lambda: run(batch)) for _ in range(nb)]
    ms = lambda t, q: round(1000 * float(np.percentile(t, q)), 3)  # noqa: E731
    return {
        "torch_ms_1": ms(torch_1, 50),
        "onnx_ms_1": ms(onnx_1, 50),
        "torch_p99_ms_1": ms(torch_1, 99),
        "onnx_p99_ms_1": ms(onnx_1, 99),
        "torch_ips_1000": round(1000 / float(np.median(torch_b))),
        "onnx_ips_1000": round(1000 / float(np.median(onnx_b))),
        "calls_1": n1,
        "calls_1000": nb,
    }


def _time_graph(session, X, quick):
    """One image (median ms) and batch 1,000 (images/s) of a graph."""
    n1, nb = CALLS[quick]
    run = lambda x: session.run(["probabilities"], {"input": x})  # noqa: E731
    batch = np.resize(X, (1000, X.shape[1]))
    for i in range(20):
        run(X[i : i + 1])
    one = [_timed(lambda i=i: run(X[i % len(X) : i % len(X) + 1])) for i in range(n1)]
    many = [_timed(lambda: run(batch)) for _ in range(nb)]
    return round(1000 * float(np.median(one)), 3), round(1000 / float(np.median(many)))


def export_seconds(model, path, repeats=3):
    """Median seconds of ``export_onnx(model, path)`` with the exporter's
    table of ONNX functions built anew each time and kept, alternating."""
    from unittest import mock

    from torch.onnx._internal._lazy_import import onnxscript_apis

    from skfashion.io import _onnx

    export_onnx(model, path)  # warm up: imports; the table built and kept
    kept = onnxscript_apis.get_torchlib_ops
    modules = _onnx._modules_handing_out(kept)
    times = {"anew": [], "kept": []}
    for _ in range(repeats):
        with mock.patch.object(_onnx, "_torchlib_table_once", lambda: None):
            for module in modules:
                module.get_torchlib_ops = kept.__wrapped__
            try:
                times["anew"].append(_timed(lambda: export_onnx(model, path)))
            finally:
                for module in modules:
                    module.get_torchlib_ops = kept
        times["kept"].append(_timed(lambda: export_onnx(model, path)))
    return {f"export_s_{k}": round(float(np.median(t)), 2) for k, t in times.items()}


def _accuracy(session, X, y):
    labels = np.concatenate(
        [
            session.run(["label"], {"input": X[i : i + 1000]})[0]
            for i in range(0, len(X), 1000)
        ]
    )
    return round(float(np.mean(labels == y)), 4)


def _int8(name, train, test, tmp, quick):
    """Float and int8 graphs of one briefly trained model: accuracy, speed."""
    n, params = ACCURACY_TRAINING[name]
    n = n // 10 if quick else n
    model = _model(name, train.data[:n], train.target[:n], **params)
    paths = {k: Path(tmp) / f"{name}-{k}.onnx" for k in ("float", "int8")}
    export_onnx(model, paths["float"])
    export_onnx(model, paths["int8"], quantize="int8", calibration=train.data[-500:])
    result = {"accuracy_training": {"images": n, **params}}
    for kind, path in paths.items():
        session = _session(path)
        result[f"{kind}_accuracy"] = _accuracy(session, test.data, test.target)
        ms, ips = _time_graph(session, test.data, quick)
        result[f"onnx_{kind}_ms_1"], result[f"onnx_{kind}_ips_1000"] = ms, ips
    return result


def run(quick=True, out="benchmarks/results"):
    data = fetch_fashion_mnist(subset="train")
    test = fetch_fashion_mnist(subset="test")
    X, y = data.data[:1000], data.target[:1000]
    models, rows = {}, []
    with TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name in CLASSIFIERS:
            model = _model(name, X, y)
            path = Path(tmp) / f"{name}.onnx"
            export_onnx(model, path)
            result = _measure(model, _session(path), X, quick)
            result.update(export_seconds(model, Path(tmp) / f"{name}-export.onnx"))
            result["precision"] = model[-1].precision_
            if result["precision"] != "float32":
                # the graph computes in float32: PyTorch in float32 beside it
                f32 = _measure(
                    _model(name, X, y, precision="float32"), _session(path), X, quick
                )
                result["torch_float32_ms_1"] = f32["torch_ms_1"]
                result["torch_float32_ips_1000"] = f32["torch_ips_1000"]
            result.update(_int8(name, data, test, tmp, quick))
            models[name] = result
            rows.append(
                {
                    "model": name,
                    **{
                        k: v
                        for k, v in result.items()
                        if not k.startswith("calls") and k != "accuracy_training"
                    },
                    "speedup_1": round(result["torch_ms_1"] / result["onnx_ms_1"], 2),
                    "speedup_1000": round(
                        result["onnx_ips_1000"] / result["torch_ips_1000"], 2
                    ),
                    "export_speedup": round(
                        result["export_s_anew"] / result["export_s_kept"], 2
                    ),
                    "int8_vs_float_1000": round(
                        result["onnx_int8_ips_1000"] / result["onnx_float_ips_1000"], 2
                    ),
                    "int8_vs_torch_1000": round(
                        result["onnx_int8_ips_1000"] / result["torch_ips_1000"], 2
                    ),
                }
            )
    record = {
        "cpu": cpu_name(),
        "cpu_detail": cpu_detail(),
        "machine": machine(),
        "quick": quick,
        "models": models,
    }
    path = Path(out) / "onnx.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    path.with_suffix(".rst").write_text(rst_table(record))
    return rows


def rst_table(record):
    """The docs' table of a record (``onnx.rst`` beside the JSON)."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - model",
        "     - one image, PyTorch (ms, median / p99)",
        "     - one image, onnxruntime",
        "     - batch 1,000, PyTorch (images/s)",
        "     - batch 1,000, onnxruntime",
    ]
    for name, r in record["models"].items():
        f32 = r.get("torch_float32_ips_1000")
        lines += [
            f"   * - {name} ({r['precision']})",
            f"     - {r['torch_ms_1']:.2f} / {r['torch_p99_ms_1']:.1f}",
            f"     - {r['onnx_ms_1']:.2f} / {r['onnx_p99_ms_1']:.1f} "
            f"({r['torch_ms_1'] / r['onnx_ms_1']:.1f}× faster)",
            f"     - {r['torch_ips_1000']:,}" + (f" (float32: {f32:,})" if f32 else ""),
            f"     - {r['onnx_ips_1000']:,} "
            f"({r['onnx_ips_1000'] / r['torch_ips_1000']:.2f}×)",
        ]
    lines += _int8_table(record)
    cores = _cores(record["machine"])
    threads = record["machine"]["torch_threads"]
    lines += [
        "",
        f"Measured on {record.get('cpu_detail', record['cpu'])} ({cores} cores, "
        f"{threads} threads for both).",
        "",
    ]
    return "\n".join(lines)


def _int8_table(record):
    """The int8 graphs beside the float graphs of the same weights."""
    models = {k: r for k, r in record["models"].items() if "int8_accuracy" in r}
    if not models:
        return []
    lines = [
        "",
        "int8 graphs, calibrated on 500 training images, beside the float graph "
        "of the same weights (each model trained briefly: ``ACCURACY_TRAINING``):",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - model",
        "     - test accuracy, float / int8",
        "     - one image, int8 (ms)",
        "     - batch 1,000, float graph (images/s)",
        "     - batch 1,000, int8 graph",
    ]
    for name, r in models.items():
        lines += [
            f"   * - {name}",
            f"     - {100 * r['float_accuracy']:.2f} % / "
            f"{100 * r['int8_accuracy']:.2f} %",
            f"     - {r['onnx_int8_ms_1']:.2f} (float: {r['onnx_float_ms_1']:.2f})",
            f"     - {r['onnx_float_ips_1000']:,}",
            f"     - {r['onnx_int8_ips_1000']:,} "
            f"({r['onnx_int8_ips_1000'] / r['onnx_float_ips_1000']:.2f}x the float "
            f"graph, {r['onnx_int8_ips_1000'] / r['torch_ips_1000']:.2f}x PyTorch "
            f"{r['precision']})",
        ]
    return lines
