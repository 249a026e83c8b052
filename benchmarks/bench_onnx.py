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
"""

import json
import time
import warnings
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from skfashion import PixelScaler, export_onnx, fetch_fashion_mnist
from skfashion.neural_network import CLASSIFIERS
from skfashion.utils import cpu_name

from ._common import cores as _cores
from ._common import machine

OWN_JSON = True
CALLS = {False: (1000, 5), True: (200, 3)}  # quick -> (one-image calls, batch calls)


def _model(name, X, y, **params):
    from sklearn.pipeline import make_pipeline

    clf = CLASSIFIERS[name](
        max_epochs=1, random_state=0, validation_split=None, **params
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


def run(quick=True, out="benchmarks/results"):
    data = fetch_fashion_mnist(subset="train")
    X, y = data.data[:1000], data.target[:1000]
    models, rows = {}, []
    with TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name in CLASSIFIERS:
            model = _model(name, X, y)
            path = Path(tmp) / f"{name}.onnx"
            export_onnx(model, path)
            result = _measure(model, _session(path), X, quick)
            result["precision"] = model[-1].precision_
            if result["precision"] != "float32":
                # the graph computes in float32: PyTorch in float32 beside it
                f32 = _measure(
                    _model(name, X, y, precision="float32"), _session(path), X, quick
                )
                result["torch_float32_ms_1"] = f32["torch_ms_1"]
                result["torch_float32_ips_1000"] = f32["torch_ips_1000"]
            models[name] = result
            rows.append(
                {
                    "model": name,
                    **{k: v for k, v in result.items() if not k.startswith("calls")},
                    "speedup_1": round(result["torch_ms_1"] / result["onnx_ms_1"], 2),
                    "speedup_1000": round(
                        result["onnx_ips_1000"] / result["torch_ips_1000"], 2
                    ),
                }
            )
    record = {"cpu": cpu_name(), "machine": machine(), "quick": quick, "models": models}
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
    cores = _cores(record["machine"])
    threads = record["machine"]["torch_threads"]
    lines += [
        "",
        f"Measured on {record['cpu']} ({cores} cores, {threads} threads for both).",
        "",
    ]
    return "\n".join(lines)
