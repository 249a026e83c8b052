"""A fitted model as an NVIDIA Triton model repository: the ONNX graph of
:func:`export_onnx` and the ``config.pbtxt`` its inputs and outputs say."""

import re
import shutil
import tempfile
from pathlib import Path

from ..datasets import class_name
from ._card_body import graph_lines, read_graph
from ._onnx import export_onnx

__all__ = ["export_triton"]

#: ONNX element types -> Triton's data types (``model_config.proto``)
_TRITON_TYPES = {
    1: "TYPE_FP32",  # FLOAT
    2: "TYPE_UINT8",
    3: "TYPE_INT8",
    6: "TYPE_INT32",
    7: "TYPE_INT64",
    8: "TYPE_STRING",
    9: "TYPE_BOOL",
    10: "TYPE_FP16",
    11: "TYPE_FP64",
}
LABELS_FILE = "labels.txt"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _tensor(value, labels=None):
    """One ``input`` or ``output`` entry of the config, from the graph's
    value info: its data type and dims without the batch dimension (a
    ``[batch]`` tensor is ``dims: [1]`` reshaped to ``[]``, Triton's form)."""
    kind = value.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in kind.shape.dim]
    rest = dims[1:]
    lines = [
        f'    name: "{value.name}"',
        f"    data_type: {_TRITON_TYPES[kind.elem_type]}",
        f"    dims: [ {', '.join(map(str, rest or [1]))} ]",
    ]
    if not rest:
        lines.append("    reshape: { shape: [ ] }")
    if labels:
        lines.append(f'    label_filename: "{labels}"')
    return "  {\n" + "\n".join(lines) + "\n  }"


def _config(graph, name, max_batch_size, queue_delay_us):
    inputs = [_tensor(v) for v in graph.graph.input]
    outputs = [
        _tensor(v, LABELS_FILE if v.name == "probabilities" else None)
        for v in graph.graph.output
    ]
    return (
        f'name: "{name}"\n'
        'platform: "onnxruntime_onnx"\n'
        f"max_batch_size: {max_batch_size}\n"
        "input [\n" + ",\n".join(inputs) + "\n]\n"
        "output [\n" + ",\n".join(outputs) + "\n]\n"
        "dynamic_batching {\n"
        f"  max_queue_delay_microseconds: {queue_delay_us}\n"
        "}\n"
    )


def _check_arguments(name, max_batch_size, queue_delay_us):
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            "export_triton's name must be letters, digits, '_', '.' and '-' "
            f"(not starting with '.' or '-'); got {name!r}."
        )
    for key, value, low in (
        ("max_batch_size", max_batch_size, 1),
        ("queue_delay_us", queue_delay_us, 0),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(
                f"export_triton's {key} must be an int >= {low}; got {value!r}."
            )


def export_triton(
    model,
    repository,
    *,
    name="skfashion",
    quantize=None,
    calibration=None,
    detector=None,
    max_batch_size=256,
    queue_delay_us=500,
    card=None,
):
    """Write a fitted model as a Triton model repository.

    ``repository/name/1/model.onnx`` is :func:`export_onnx`'s graph (with
    ``quantize``, ``calibration`` and ``detector`` as there);
    ``repository/name/config.pbtxt`` serves it with Triton's ONNX Runtime
    backend (``platform: "onnxruntime_onnx"``): its inputs and outputs as
    the graph has them (names, data types, dims after the batch dimension),
    ``max_batch_size``, dynamic batching that waits up to ``queue_delay_us``
    microseconds to fill a batch, and the class names as the
    ``probabilities`` output's ``label_filename`` (``labels.txt``, one per
    line in the order of ``classes_``), so that Triton's classification
    extension answers names. Start it with ``tritonserver
    --model-repository repository``.

    The model's folder is written aside and moved into place: a failed
    export leaves nothing, and an existing folder of that name is refused.

    Parameters
    ----------
    model : FashionMLP, FashionCNN, FastFashionCNN or Pipeline
        A fitted model :func:`export_onnx` takes.
    repository : str or path-like
        The model repository (made if missing).
    name : str, default="skfashion"
        The model's name in the repository (letters, digits, ``_``, ``.``
        and ``-``).
    quantize, calibration, detector
        As in :func:`export_onnx`.
    max_batch_size : int, default=256
        The largest batch Triton sends the model.
    queue_delay_us : int, default=500
        How long Triton waits to add requests to a batch, in microseconds.
    card : huggingface_hub.ModelCard, default=None
        The model's card (:func:`model_card`, :func:`find_card`), carried
        as ``repository/name/README.md`` with a section naming the graph
        (its SHA-256 and precision).

    Returns
    -------
    folder : pathlib.Path
        ``repository/name``.

    Raises
    ------
    ValueError
        If ``name``, ``max_batch_size`` or ``queue_delay_us`` is invalid, or
        for what :func:`export_onnx` refuses.
    FileExistsError
        If ``repository/name`` exists.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfashion import FashionMLP, PixelScaler
    >>> from skfashion.io import export_triton
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, (40, 16)).astype(np.uint8)
    >>> pipe = make_pipeline(PixelScaler(), FashionMLP(hidden_units=(8,), max_epochs=1))
    >>> pipe = pipe.fit(X, np.arange(40) % 2)
    >>> folder = export_triton(pipe, tempfile.mkdtemp(), name="fashion")
    >>> sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    ['1', '1/model.onnx', 'config.pbtxt', 'labels.txt']
    >>> print((folder / "labels.txt").read_text())
    T-shirt/top
    Trouser
    <BLANKLINE>
    """
    import onnx

    _check_arguments(name, max_batch_size, queue_delay_us)
    repository = Path(repository)
    folder = repository / name
    if folder.exists():
        raise FileExistsError(f"{folder} exists: remove it or choose another name")
    repository.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=repository))
    try:
        (staging / "1").mkdir()
        graph_path = staging / "1" / "model.onnx"
        export_onnx(
            model,
            graph_path,
            quantize=quantize,
            calibration=calibration,
            detector=detector,
        )
        graph = onnx.load(graph_path, load_external_data=False)
        config = _config(graph, name, max_batch_size, queue_delay_us)
        (staging / "config.pbtxt").write_text(config)
        classes = model.classes_
        labels = "".join(f"{class_name(c)}\n" for c in classes.tolist())
        (staging / LABELS_FILE).write_text(labels)
        if card is not None:
            graph = read_graph(graph_path) | {"name": "1/model.onnx"}
            lines = graph_lines([graph], heading="In this Triton repository")
            text = str(card).rstrip("\n") + "\n" + "\n".join(lines) + "\n"
            (staging / "README.md").write_text(text, encoding="utf-8")
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
