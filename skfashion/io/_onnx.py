"""The whole fitted pipeline as one ONNX graph.

The network is exported by PyTorch's own exporter (``torch.onnx.export``,
the dynamo exporter); scikit-learn steps before it by ``skl2onnx``; the
graphs are joined with ``onnx.compose``. Three small pieces have no
converter anywhere and are written here as ONNX nodes: skfashion's
``PixelScaler`` (a cast and a division), and the classifier's head -- the
softmax of the logits, with label smoothing undone as ``predict_proba`` does
(``probabilities``), and the class of the largest one
looked up in the classes given to ``fit`` (``label``), the two outputs
scikit-learn classifiers have under ``skl2onnx``; with a novelty detector,
its score (``garment_score``: the log-sum-exp of the logits, or the largest
probability).

The ONNX packages (``onnx``, ``onnxscript``, ``onnxruntime``, ``skl2onnx``)
are the ``onnx`` extra; they are imported when :func:`export_onnx` is
called.
"""

import copy
import functools
import json
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..utils import atomic_write, split_pipeline
from ._quantize import check_calibration, quantize_int8

__all__ = ["export_onnx", "quantize_onnx"]

INPUT = "input"
DEFAULT_OPSET = 18  # supported by every onnxruntime since 1.14


def _split(model):
    """The preprocessing steps and the classifier of a model, checked."""
    from ..neural_network import FashionNetBase
    from ..preprocessing import ImagePreprocessor

    steps, clf = split_pipeline(
        model,
        FashionNetBase,
        caller="export_onnx",
        kind="a fitted skfashion classifier",
    )
    check_is_fitted(clf)
    for name, step in steps[:-1]:
        check_is_fitted(step)
        if isinstance(step, ImagePreprocessor):
            raise ValueError(
                f"export_onnx cannot convert step {name!r} (ImagePreprocessor): it "
                "crops and resizes each picture with Pillow, which ONNX cannot "
                "express. Export the pipeline without it and preprocess pictures "
                "with skfashion.preprocess_image (or your own code) before the "
                "ONNX model."
            )
    return steps[:-1], clf


def _check_path(path):
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"Cannot write {path}: the folder {path.parent} does not exist."
        )
    if path.is_dir():
        raise IsADirectoryError(f"Cannot write {path}: it is a folder.")
    return path


def _bound(module, kwargs):
    """``module`` with the estimator's forward arguments fixed (test-time
    augmentation), as one module for the exporter."""
    import torch

    class Bound(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = module

        def forward(self, x):
            return self.module(x, **kwargs)

    return Bound().eval()


def _torchlib_table_once():
    """Have PyTorch's exporter build its table of ONNX functions once in a
    process, not on every export.

    torch 2.13 asks onnxscript for the table on each export, and onnxscript
    0.7 builds it anew by reading the source of each of its ~550 functions:
    0.5 s on an idle 2-core AMD EPYC (AVX2), a third of exporting the MLP,
    and more on a loaded CPU. The table depends only on the installed
    onnxscript, and the exporter only reads it, so the first one built is
    kept (in every module of onnxscript that hands out the same function).
    Where the two libraries are laid out otherwise, nothing changes."""
    try:
        from torch.onnx._internal._lazy_import import onnxscript_apis

        original = onnxscript_apis.get_torchlib_ops  # imports torch's module
    except (ImportError, AttributeError):
        return
    if hasattr(original, "cache_info"):  # done already
        return
    cached = functools.cache(original)
    for module in _modules_handing_out(original):
        module.get_torchlib_ops = cached


def _modules_handing_out(function):
    """The loaded modules of onnxscript's framework APIs whose
    ``get_torchlib_ops`` is ``function`` (each version's module re-exports
    the one before's)."""
    return [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("onnxscript._framework_apis")
        and getattr(module, "get_torchlib_ops", None) is function
    ]


def _network(clf, n_features, opset):
    """The network as an ONNX model: ``input`` [batch, n_features] float32
    -> ``logits`` [batch, n_classes], in float32 whatever it trained in."""
    import torch

    module = copy.deepcopy(clf.module_).to("cpu").float().eval()
    module = _bound(module, clf._forward_kwargs())
    example = torch.zeros(2, n_features)
    _torchlib_table_once()
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "torchvision is not installed": no matter
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                (example,),
                input_names=[INPUT],
                output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                opset_version=opset,
                dynamo=True,
                verbose=False,
            )
    finally:
        quiet.setLevel(level)
    program.optimize()
    return program.model_proto


def _preprocessing(steps, n_features, opset):
    """The steps before the classifier as one ONNX model from ``input``
    to ``features``, or None; and the input's element type."""
    from onnx import TensorProto, helper

    from ..preprocessing import PixelScaler

    nodes, initializers, current = [], [], INPUT
    elem = TensorProto.FLOAT
    for i, (name, step) in enumerate(steps):
        out = f"step{i}_{name}"
        if isinstance(step, PixelScaler):
            # no converter exists for PixelScaler: X / max_value as float32,
            # the division numpy does (a multiplication would round otherwise)
            if i == 0:
                elem = TensorProto.UINT8  # raw pixels, as from the IDX files
            scale = f"{out}_max_value"
            initializers.append(
                helper.make_tensor(scale, TensorProto.FLOAT, [], [step.max_value])
            )
            nodes.append(helper.make_node("Cast", [current], [f"{out}_f"], to=1))
            nodes.append(helper.make_node("Div", [f"{out}_f", scale], [out]))
        else:
            return _with_skl2onnx(steps, n_features, opset), TensorProto.FLOAT
        current = out
    if not nodes:
        return None, elem
    nodes.append(helper.make_node("Identity", [current], ["features"]))
    graph = helper.make_graph(
        nodes,
        "preprocessing",
        [helper.make_tensor_value_info(INPUT, elem, [None, n_features])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, None])],
        initializers,
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)]
    ), elem


def _with_skl2onnx(steps, n_features, opset):
    """scikit-learn steps (and PixelScaler among them) through skl2onnx."""
    import onnx
    from skl2onnx import convert_sklearn, update_registered_converter
    from skl2onnx.common.data_types import FloatTensorType

    from ..preprocessing import PixelScaler

    update_registered_converter(
        PixelScaler, "SkfashionPixelScaler", _pixel_shape, _pixel_converter
    )
    pipe = Pipeline([(name, step) for name, step in steps])
    try:
        onx = convert_sklearn(
            pipe,
            initial_types=[(INPUT, FloatTensorType([None, n_features]))],
            final_types=[("features", FloatTensorType([None, None]))],
            target_opset={"": opset, "ai.onnx.ml": 3},
        )
    except (RuntimeError, NameError, TypeError, ValueError) as exc:
        kinds = ", ".join(f"{name!r} ({type(s).__name__})" for name, s in steps)
        raise ValueError(
            f"export_onnx cannot convert the steps {kinds} with skl2onnx: {exc}"
        ) from None
    # skl2onnx picks the lowest opset its operators need; the network's is
    # the one asked for, and compose joins only graphs of one opset
    return onnx.version_converter.convert_version(onx, opset)


def _pixel_shape(operator):
    operator.outputs[0].type = operator.inputs[0].type.__class__(
        operator.inputs[0].type.shape
    )


def _pixel_converter(scope, operator, container):
    from onnx import TensorProto

    step = operator.raw_operator
    scale = scope.get_unique_variable_name("max_value")
    container.add_initializer(scale, TensorProto.FLOAT, [], [step.max_value])
    container.add_node(
        "Div",
        [operator.inputs[0].full_name, scale],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("PixelScaler"),
    )


def _probabilities(clf):
    """logits -> ``probabilities``: the nodes of ``predict_proba``'s
    nonlinearity, the softmax (then, with label smoothing, its inverse:
    ``SmoothedSoftmaxInverse``); a nonlinearity of the user's cannot be
    written as ONNX nodes."""
    from onnx import helper, numpy_helper

    from ..neural_network import SmoothedSoftmaxInverse

    if not (
        isinstance(clf.predict_nonlinearity, str) and clf.predict_nonlinearity == "auto"
    ):
        raise ValueError(
            "export_onnx writes predict_proba's softmax as ONNX nodes; it cannot "
            f"convert predict_nonlinearity={clf.predict_nonlinearity!r}. Export "
            'a classifier with predict_nonlinearity="auto".'
        )
    nonlin = clf._get_predict_nonlinearity()
    if not isinstance(nonlin, SmoothedSoftmaxInverse):
        return [helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)]
    eps, k = nonlin.label_smoothing, len(clf.classes_)

    def const(name, value):
        array = np.asarray(value, dtype=np.float32 if name != "axis" else np.int64)
        return helper.make_node(
            "Constant", [], [name], value=numpy_helper.from_array(array, name)
        )

    return [
        helper.make_node("Softmax", ["logits"], ["softmax"], axis=1),
        const("share", eps / k),
        const("keep", 1 - eps),
        const("floor", nonlin.floor),
        const("axis", [1]),
        helper.make_node("Sub", ["softmax", "share"], ["shifted"]),
        helper.make_node("Div", ["shifted", "keep"], ["unsmoothed"]),
        helper.make_node("Max", ["unsmoothed", "floor"], ["floored"]),
        helper.make_node("ReduceSum", ["floored", "axis"], ["total"], keepdims=1),
        helper.make_node("Div", ["floored", "total"], ["probabilities"]),
    ]


#: the novelty scores a graph can compute from its logits and probabilities
ONNX_METHODS = ("energy", "msp")


def _check_detector(detector, clf):
    """The fitted ``detector``'s method, checked to be over ``clf`` and to
    be one a graph computes; None without a detector."""
    if detector is None:
        return None
    from sklearn.frozen import FrozenEstimator

    from ..novelty import NoveltyDetector

    if not isinstance(detector, NoveltyDetector):
        raise TypeError(
            "export_onnx's detector must be a fitted skfashion.novelty."
            f"NoveltyDetector, got {type(detector).__name__}."
        )
    check_is_fitted(detector, "offset_")
    over = detector.estimator
    if isinstance(over, FrozenEstimator):
        over = over.estimator
    if split_pipeline(over)[1] is not clf:
        raise ValueError(
            "export_onnx's detector is fitted over another classifier than the "
            "model exported: fit it on this model (NoveltyDetector(model))."
        )
    if detector.method not in ONNX_METHODS:
        raise ValueError(
            f"export_onnx writes the garment score of the methods "
            f"{', '.join(map(repr, ONNX_METHODS))} as ONNX nodes, not "
            f"method={detector.method!r} (it needs the network's penultimate "
            "features, which the graph does not give). Export with "
            "NoveltyDetector(model, method='energy') or without a detector."
        )
    return detector.method


def _score_nodes(method):
    """logits or probabilities -> ``garment_score`` [batch]: what
    ``NoveltyDetector.score_samples`` computes (in float32)."""
    from onnx import helper, numpy_helper

    axis = helper.make_node(
        "Constant",
        [],
        ["score_axis"],
        value=numpy_helper.from_array(np.asarray([1], np.int64), "score_axis"),
    )
    if method == "energy":
        op, source = "ReduceLogSumExp", "logits"
    else:
        op, source = "ReduceMax", "probabilities"
    return [
        axis,
        helper.make_node(op, [source, "score_axis"], ["garment_score"], keepdims=0),
    ]


def _head(clf, opset, method=None):
    """logits -> ``probabilities`` (``_probabilities``) and ``label`` (the
    class of the largest logit, as given to ``fit``), and with a novelty
    ``method`` its ``garment_score``. Written by hand: no converter knows a
    skorch network's classes."""
    from onnx import TensorProto, helper, numpy_helper

    classes = np.asarray(clf.classes_)
    if classes.dtype.kind in "iub":
        table = numpy_helper.from_array(classes.astype(np.int64), "classes")
        label_type = TensorProto.INT64
    elif classes.dtype.kind == "f":
        table = numpy_helper.from_array(classes.astype(np.float32), "classes")
        label_type = TensorProto.FLOAT
    else:
        table = helper.make_tensor(
            "classes",
            TensorProto.STRING,
            [len(classes)],
            [str(c).encode() for c in classes],
        )
        label_type = TensorProto.STRING
    nodes = [
        *_probabilities(clf),
        helper.make_node("ArgMax", ["logits"], ["index"], axis=1, keepdims=0),
        helper.make_node("Gather", ["classes", "index"], ["label"], axis=0),
    ]
    outputs = [
        helper.make_tensor_value_info("label", label_type, [None]),
        helper.make_tensor_value_info(
            "probabilities", TensorProto.FLOAT, [None, len(classes)]
        ),
    ]
    if method is not None:
        nodes += _score_nodes(method)
        outputs.append(
            helper.make_tensor_value_info("garment_score", TensorProto.FLOAT, [None])
        )
    graph = helper.make_graph(
        nodes,
        "head",
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, None])],
        outputs,
        [table],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _metadata(clf, calibration=None, detector=None):
    from .._version import __version__

    history = clf.history_
    accuracy = history[-1, "train_acc"] if len(history) else None
    valid = (
        history[-1, "valid_acc"]
        if len(history) and "valid_acc" in history[-1]
        else None
    )
    return {
        "skfashion_version": __version__,
        "estimator": type(clf).__name__,
        "classes": json.dumps(
            [c.item() if hasattr(c, "item") else c for c in clf.classes_]
        ),
        "train_accuracy": "" if accuracy is None else f"{accuracy:.6f}",
        "valid_accuracy": "" if valid is None else f"{valid:.6f}",
        "epochs": str(len(history)),
        "input_max": str(getattr(clf, "input_max_", "")),
        "precision": "float32" if calibration is None else "int8",
        "calibration_images": "" if calibration is None else str(len(calibration)),
        **(
            {}
            if detector is None
            else {
                "novelty_method": detector.method,
                "garment_score_threshold": repr(float(detector.offset_)),
            }
        ),
    }


def export_onnx(
    model, path, *, opset=None, quantize=None, calibration=None, detector=None
):
    """Export a fitted classifier or pipeline as one ONNX file.

    The graph takes ``input``, a tensor of shape ``[batch, n_features]``
    (float32; uint8 pixels if the pipeline starts with a
    :class:`PixelScaler`), any batch size, and gives ``label`` (the classes
    as given to ``fit``; strings stay strings) and ``probabilities``
    (``[batch, n_classes]``, float32): what ``predict`` and
    ``predict_proba`` give, from any ONNX runtime (onnxruntime for C++, C#,
    Java, JavaScript, mobile...). A model trained in bfloat16 is exported in
    float32. The graph's metadata holds the skfashion version, the estimator,
    the classes, the last epoch's training (and validation) accuracy and the
    precision.

    With a ``detector`` (a :class:`~skfashion.novelty.NoveltyDetector`
    fitted over ``model``, method ``"energy"`` or ``"msp"``) the graph gives
    a third output, ``garment_score`` (``[batch]``, float32: its
    ``score_samples``), and its metadata the ``novelty_method`` and the
    ``garment_score_threshold`` (its ``offset_``; a picture scoring below it
    is not a garment): a deployment with onnxruntime alone keeps the check.

    ``quantize="int8"`` writes the same graph statically quantized
    (onnxruntime's tooling, QDQ form): the convolutions and matrix products
    compute on 8-bit integers, their activations' ranges measured on the
    ``calibration`` images -- a few hundred training images. Smaller and, on
    CPUs with VNNI instructions, faster; its accuracy is measured by
    ``benchmarks/bench_onnx.py``.

    Needs the ``onnx`` extra (``pip install "skfashion[onnx]"``).

    Parameters
    ----------
    model : FashionMLP, FashionCNN, FastFashionCNN or Pipeline
        A fitted classifier, or a fitted pipeline ending in one whose other
        steps are :class:`PixelScaler` or scikit-learn transformers that
        ``skl2onnx`` converts.
    path : str or path-like
        The ``.onnx`` file to write, in an existing folder. Written to a
        temporary file first: a failed export leaves nothing behind.
    opset : int, default=None
        The ONNX opset (default: 18).
    quantize : {None, "int8"}, default=None
        None: float32 arithmetic. "int8": statically quantized.
    calibration : array-like of shape (n_images, n_features), default=None
        With ``quantize="int8"``: images as the model takes them (0-255
        pixels for a pipeline starting with :class:`PixelScaler`) on which
        the activations' ranges are measured.
    detector : NoveltyDetector, default=None
        A novelty detector fitted over ``model`` (``method="energy"`` or
        ``"msp"``), whose score the graph gives as ``garment_score``.

    Raises
    ------
    NotFittedError
        If the model is not fitted.
    ValueError
        If a step cannot be converted (named in the message), ``quantize``
        or ``calibration`` is not as described, or the detector is over
        another classifier or of a method the graph cannot compute.
    TypeError
        If ``detector`` is not a NoveltyDetector.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfashion import FashionMLP, PixelScaler, export_onnx
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, (40, 16)).astype(np.uint8)
    >>> y = np.repeat(["Bag", "Coat"], 20)
    >>> pipe = make_pipeline(PixelScaler(), FashionMLP(hidden_units=(8,), max_epochs=2))
    >>> pipe = pipe.fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    >>> export_onnx(pipe, path)
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> label, proba = session.run(["label", "probabilities"], {"input": X[:3]})
    >>> bool((label == pipe.predict(X[:3])).all())
    True
    """
    import onnx
    from onnx import compose

    steps, clf = _split(model)
    path = _check_path(path)
    opset = DEFAULT_OPSET if opset is None else int(opset)
    n_features = steps[0][1].n_features_in_ if steps else clf.n_features_in_
    calibration = check_calibration(quantize, calibration, n_features)
    method = _check_detector(detector, clf)
    network = _network(clf, clf.n_features_in_, opset)
    pre, _ = _preprocessing(steps, n_features, opset)
    head = _head(clf, opset, method)
    for part in (pre, head):  # compose joins models of one IR version
        if part is not None:
            part.ir_version = network.ir_version
    graph = network
    if pre is not None:
        pre = compose.add_prefix(pre, "pre_", rename_inputs=False)
        graph = compose.merge_models(
            pre,
            _rename_input(network, INPUT, "features"),
            io_map=[("pre_features", "features")],
        )
    graph = compose.merge_models(graph, head, io_map=[("logits", "logits")])
    _one_opset_per_domain(graph)
    if calibration is not None:
        graph = quantize_int8(graph, calibration)
    onnx.helper.set_model_props(graph, _metadata(clf, calibration, detector))
    graph.producer_name = "skfashion"
    onnx.checker.check_model(graph, full_check=True)
    with atomic_write(path) as tmp:
        onnx.save_model(graph, tmp)


def quantize_onnx(source, path, calibration):
    """Write the int8 twin of a float32 graph that :func:`export_onnx` wrote.

    The same file as ``export_onnx(model, path, quantize="int8",
    calibration=calibration)`` (same options, same detector), made from the
    float graph instead of the model: the network is not exported again,
    which takes most of an export's time.

    Parameters
    ----------
    source : str or path-like
        A float32 graph written by :func:`export_onnx`.
    path : str or path-like
        The ``.onnx`` file to write, in an existing folder (written whole or
        not at all).
    calibration : array-like of shape (n_images, n_features)
        Images as the graph takes them, on which the activations' ranges
        are measured.

    Raises
    ------
    ValueError
        If ``source`` is not a float32 graph of :func:`export_onnx`, or the
        calibration images are not as described.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfashion import FashionMLP, PixelScaler, export_onnx
    >>> from skfashion.io import quantize_onnx
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, (40, 16)).astype(np.uint8)
    >>> pipe = make_pipeline(PixelScaler(), FashionMLP(hidden_units=(8,), max_epochs=2))
    >>> pipe = pipe.fit(X, np.repeat(["Bag", "Coat"], 20))
    >>> folder = tempfile.mkdtemp()
    >>> export_onnx(pipe, os.path.join(folder, "model.onnx"))
    >>> quantize_onnx(os.path.join(folder, "model.onnx"),
    ...               os.path.join(folder, "model-int8.onnx"), X)
    """
    import onnx

    path = _check_path(path)
    graph = onnx.load_model(str(source))
    props = {p.key: p.value for p in graph.metadata_props}
    if graph.producer_name != "skfashion" or props.get("precision") != "float32":
        raise ValueError(f"{source} is not a float32 graph written by export_onnx")
    n_features = graph.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    calibration = check_calibration("int8", calibration, n_features)
    del graph.metadata_props[:]
    graph = quantize_int8(graph, calibration)
    props |= {"precision": "int8", "calibration_images": str(len(calibration))}
    onnx.helper.set_model_props(graph, props)
    graph.producer_name = "skfashion"
    onnx.checker.check_model(graph, full_check=True)
    with atomic_write(path) as tmp:
        onnx.save_model(graph, tmp)


def _one_opset_per_domain(model):
    """Merged graphs list a domain's opset once per part; keep one (the
    highest version), as tools such as onnxruntime's quantizer expect."""
    versions = {}
    for opset in model.opset_import:
        versions[opset.domain] = max(versions.get(opset.domain, 0), opset.version)
    del model.opset_import[:]
    for domain, version in versions.items():
        model.opset_import.add(domain=domain, version=version)


def _rename_input(model, old, new):
    """``model`` with its input ``old`` named ``new`` (to follow the
    preprocessing)."""
    model = copy.deepcopy(model)
    for node in model.graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
    for value in model.graph.input:
        if value.name == old:
            value.name = new
    return model
