"""Safe model files: weights as safetensors, everything else as JSON. No pickle.

A pickle runs code when it is loaded; a safetensors file holds only tensors
and a string header, so loading a model from someone else cannot execute
anything. The estimator's parameters (optimizer, criterion and callbacks
included, by name), classes, history and pipeline steps go into the file's
metadata as JSON. Classes are named by their public paths, never pickled,
and loading builds only the classes of an explicit table
(:mod:`skfashion.io._storable`), each checked against its base first.
"""

import inspect
import json
import numbers
import os

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.base import TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._version import __version__
from ..neural_network import FashionNetBase
from ..utils import atomic_write, split_pipeline
from ._card_body import save_with_card
from ._novelty_file import PREFIX, detector_from_file, detector_to_file
from ._storable import LEGACY_NAMES, class_from_name, stored_name

__all__ = ["load_detector", "load_model", "save_model"]

FORMAT = "skfashion-model"
#: 3: classes named by public paths (``skfashion.modules.MLPModule``);
#: 2 (skfashion 0.1.0): by private ones, still read.
FORMAT_VERSION = 3


class _Unstorable(TypeError):
    pass


def _encode(value):
    """A parameter value as JSON, or raise _Unstorable."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, slice):
        return {"slice": [_encode(v) for v in (value.start, value.stop, value.step)]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    import torch

    if isinstance(value, torch.device):
        return str(value)
    if inspect.isclass(value):
        name = stored_name(value)
        if name is None:
            raise _Unstorable(f"the class {value.__module__}.{value.__qualname__}")
        return {"class": name}
    from skorch.callbacks import Callback

    if isinstance(value, Callback):
        return _encode_callback(value)
    raise _Unstorable(repr(value))


def _encode_callback(callback):
    name = stored_name(type(callback))
    if name is None:
        raise _Unstorable(f"the callback {type(callback).__qualname__}")
    defaults = {
        k: p.default
        for k, p in inspect.signature(type(callback)).parameters.items()
        if p.default is not p.empty
    }
    # skorch counts every attribute without a trailing "_" as a callback's
    # parameter; those starting with "_" are the callback's own bookkeeping
    params = {
        k: v
        for k, v in callback.get_params(deep=False).items()
        if not k.startswith("_")
    }
    try:
        return {"callback": name, "params": _encode_params(params, defaults)}
    except _Unstorable as exc:
        key = exc.args[0]
        raise _Unstorable(
            f"{type(callback).__name__}'s {key}={params[key]!r}"
        ) from None


def _encode_params(params, defaults):
    """Every parameter as JSON. One that is not plain data is left out when it
    is at its default (the class gives it back); else ``_Unstorable(name,
    what)`` names it."""
    encoded = {}
    for key, value in params.items():
        try:
            encoded[key] = _encode(value)
        except _Unstorable as exc:
            if key in defaults and _same(value, defaults[key]):
                continue
            raise _Unstorable(key, exc) from None
    return encoded


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "tuple" in value:
        return tuple(_decode(v) for v in value["tuple"])
    if "slice" in value:
        return slice(*value["slice"])
    if "array" in value:
        return np.asarray(value["array"], dtype=np.dtype(value["dtype"]))
    if "class" in value:
        return class_from_name(value["class"])
    if "callback" in value:
        cls = class_from_name(value["callback"])
        return cls(**{k: _decode(v) for k, v in value["params"].items()})
    raise ValueError(f"unknown value {value!r}")


def _same(a, b):
    try:
        return a is b or bool(a == b)
    except Exception:  # arrays and other ambiguous comparisons
        return False


def _step_params(step):
    """The constructor parameters of a step as JSON; refuse what cannot be
    stored (unless it is the default, which the class restores itself)."""
    # names starting with "_" are skorch's bookkeeping, not parameters
    params = {
        k: v for k, v in step.get_params(deep=False).items() if not k.startswith("_")
    }
    module = params.get("module")
    if isinstance(step, FashionNetBase) and not _is_own_network(module):
        raise ValueError(
            "save_model stores skfashion's own networks only; a custom "
            f"module ({params['module']!r}) needs its code: save the model with "
            "joblib instead."
        )
    try:
        return _encode_params(params, type(step)().get_params(deep=False))
    except _Unstorable as exc:
        name, what = exc.args
        raise ValueError(
            f"save_model cannot store {type(step).__name__}'s parameter "
            f"{name}: {what} is not plain data or a class that model files may "
            "name (skfashion.io.STORABLE), so the file could not be loaded "
            "without running code. Set it to plain data (or "
            "leave it at its default), or save the model with joblib."
        ) from None


def _is_own_network(module):
    name = stored_name(module) if inspect.isclass(module) else None
    return name is not None and name.startswith("skfashion.modules.")


def _step_class(name):
    """The class of a pipeline step named in a file: a skfashion classifier
    or transformer of the table, nothing else."""
    cls = class_from_name(name)
    if not issubclass(cls, (FashionNetBase, TransformerMixin)):
        raise ValueError(f"{name!r} is not a class a skfashion model file may name")
    return cls


def _check_names(value):
    """Every class named anywhere in a step's parameters, checked against the
    table (raises ValueError), before any of them is built."""
    if isinstance(value, list):
        for item in value:
            _check_names(item)
    elif isinstance(value, dict):
        for key in ("class", "callback"):
            if key in value:
                class_from_name(value[key])
        for item in value.values():
            _check_names(item)


def _build(spec):
    cls = _step_class(spec["class"])  # checked before anything is built
    return cls(**{k: _decode(v) for k, v in spec["params"].items()})


#: callbacks that create, read or write files when a net is built or trained
_FILE_CALLBACKS = {
    "skorch.callbacks.Checkpoint",
    "skorch.callbacks.TrainEndCheckpoint",
    "skorch.callbacks.LoadInitState",
    "skfashion.callbacks.ResumeCheckpoint",
}
#: parameters that do not come back from a file (with their ``name__*``):
#: how batches are loaded (classes, worker processes), compilation, paths
_NOT_RESTORED = (
    "iterator_train",
    "iterator_valid",
    "dataset",
    "compile",
    "checkpoint_dir",
    "torch_load_kwargs",
)


def _callback_name(item):
    """(the name skorch gives it, its class name) of a stored callback."""
    if isinstance(item, dict) and isinstance(item.get("tuple"), list):
        name, inner = (item["tuple"] + [None, None])[:2]
        return name, inner.get("callback") if isinstance(inner, dict) else None
    kind = item.get("callback") if isinstance(item, dict) else None
    return (kind.rpartition(".")[2] if isinstance(kind, str) else None), kind


def _for_prediction(params):
    """A classifier's stored parameters less what has effects beyond the
    model: callbacks that touch files (and their settings), batch loaders
    and their worker counts, compilation and paths; these come back at the
    class's defaults."""
    callbacks = params.get("callbacks")
    dropped = set()
    if isinstance(callbacks, list):
        kept = []
        for item in callbacks:
            name, kind = _callback_name(item)
            if LEGACY_NAMES.get(kind, kind) in _FILE_CALLBACKS:
                dropped.add(name)
            else:
                kept.append(item)
        params = {**params, "callbacks": kept}
    return {
        key: value
        for key, value in params.items()
        if key.partition("__")[0] not in _NOT_RESTORED
        and not (key.startswith("callbacks__") and key.split("__")[1] in dropped)
    }


def _step_spec(name, step):
    """What a file says of one pipeline step: its public class name, its
    parameters and its fitted input description."""
    kind = stored_name(type(step))
    if kind is None or not kind.startswith("skfashion."):
        raise ValueError(
            f"save_model cannot store a {type(step).__name__} step without "
            "its code: save the model with joblib."
        )
    names = getattr(step, "feature_names_in_", None)
    return {
        "name": name,
        "class": kind,
        "params": _step_params(step),
        "n_features_in": getattr(step, "n_features_in_", None),
        "feature_names_in": None if names is None else list(map(str, names)),
    }


def save_model(model, path, *, detector=None, card=None):
    """Save a fitted skfashion estimator or pipeline as a safe model file.

    The weights are written as safetensors; the estimator's parameters
    (optimizer, criterion and callbacks included, by class name), classes,
    training history and pipeline steps as JSON in the same file. Unlike a
    pickle, loading the file with :func:`load_model` never runs code from it.

    Parameters
    ----------
    model : FashionMLP, FashionCNN, FastFashionCNN or Pipeline
        A fitted estimator, or a fitted pipeline of skfashion steps
        (``ImagePreprocessor``, ``PixelScaler``) ending in one.
    path : str or path-like
        The file to write (conventionally ``*.safetensors``). It is written
        to a temporary file first, so a failed save leaves any previous file
        intact.
    detector : NoveltyDetector, default=None
        A :class:`~skfashion.novelty.NoveltyDetector` fitted on ``model``,
        stored beside it (its parameters, threshold, class means and
        covariance); :func:`load_detector` reads it back.
    card : True or dict, default=None
        Also write the file's model card as ``README.md`` beside it
        (:func:`model_card`, the ``cards`` extra): True for the model's
        details, or a dict of its numbers (``evaluation`` of
        :func:`model_card`). A ``README.md`` already there is replaced only
        if it is the card of a file of the same name.

    Raises
    ------
    ValueError
        If the model is not fitted, or holds a step, module, parameter or
        callback that could not be loaded back without running code, or the
        card cannot be written or claims what the file does not hold;
        nothing is written then.

    See Also
    --------
    load_model : Read the file back.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfashion import FashionMLP, PixelScaler, load_model, save_model
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randint(0, 256, (40, 16)), np.repeat(["Bag", "Coat"], 20)
    >>> pipe = make_pipeline(PixelScaler(),
    ...                      FashionMLP(hidden_units=(8,), max_epochs=2))
    >>> pipe = pipe.fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save_model(pipe, path)
    >>> again = load_model(path)
    >>> bool((again.predict_proba(X) == pipe.predict_proba(X)).all())
    True
    """
    steps, net = split_pipeline(
        model, FashionNetBase, caller="save_model", kind="a skfashion classifier"
    )
    check_is_fitted(net)
    spec = [_step_spec(name, step) for name, step in steps]
    for item in spec:  # what cannot be loaded is never written
        try:
            _build(json.loads(json.dumps(item)))
        except Exception as exc:
            raise ValueError(
                f"save_model cannot store this {item['class'].rpartition('.')[2]}: "
                "rebuilding it from "
                f"the file would fail ({exc})."
            ) from None
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "skfashion": __version__,
        "steps": spec,
        **net.get_fitted_state(),  # classes, input_max, split_seed, history
    }
    try:
        metadata = json.dumps(header, default=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"save_model cannot store this model: {exc}.") from None
    tensors = {
        k: v.detach().cpu().contiguous() for k, v in net.module_.state_dict().items()
    }
    if detector is not None:
        header["novelty"], detector_tensors = detector_to_file(detector, model)
        tensors.update(detector_tensors)
        metadata = json.dumps(header, default=float)

    def write(tmp):
        save_file(tensors, tmp, metadata={"skfashion": metadata})

    if card is None or card is False:
        with atomic_write(path) as tmp:
            write(tmp)
        return
    final = model[-1] if isinstance(model, Pipeline) else model
    save_with_card(path, card, write, final, detector)


def _read(path):
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # SafetensorError, OSError, ...
        raise ValueError(
            f"{path}: not a readable skfashion model file ({exc})."
        ) from None
    try:
        header = json.loads(metadata["skfashion"])
        if header.get("format") != FORMAT:
            raise ValueError
    # RecursionError: JSON nested deeper than the parser's stack allows
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError):
        raise ValueError(
            f"{path}: a safetensors file, but not one written by skfashion's "
            "save_model."
        ) from None
    version = header.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(
            f"{path}: malformed skfashion model header (field 'version': "
            f"{version!r} is not an integer)."
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path}: written by a newer skfashion ({header.get('skfashion')}); "
            "upgrade skfashion to read it."
        )
    return header, tensors


def _checked_steps(header, path):
    """The header's ``steps``: a list of objects naming their class, the
    transformers first and a skfashion classifier last (else ValueError
    naming the file and the field)."""

    def malformed(field, problem):
        return ValueError(
            f"{path}: malformed skfashion model header (field {field!r}: {problem})."
        )

    specs = header.get("steps")
    if not isinstance(specs, list) or not specs:
        raise malformed("steps", "not a list of one or more steps")
    for i, spec in enumerate(specs):
        field = f"steps[{i}]"
        if not isinstance(spec, dict) or not isinstance(spec.get("params"), dict):
            raise malformed(field, "not an object with 'class' and 'params'")
        if not isinstance(spec.get("class"), str):
            raise malformed(f"{field}.class", "not a class name")
        try:
            cls = _step_class(spec["class"])
        except ValueError as exc:
            raise malformed(f"{field}.class", exc) from None
        last = i == len(specs) - 1
        if last != issubclass(cls, FashionNetBase):
            raise malformed(
                f"{field}.class",
                f"{spec['class']} cannot be "
                + ("the last step: a classifier must" if last else "a transformer"),
            )
    return [dict(spec) for spec in specs]


def _check_shapes(net, tensors, path):
    """The layer sizes the header gives against the weights' shapes, before
    any of the network is allocated (a crafted size could ask gigabytes)."""
    try:
        expected = net.module_shapes()
    except Exception as exc:  # parameters that build no network
        raise ValueError(f"{path}: cannot build the stored network ({exc}).") from None
    stored = {name: tuple(t.shape) for name, t in tensors.items()}
    if expected != stored:
        missing = sorted(expected.keys() - stored.keys())
        extra = sorted(stored.keys() - expected.keys())
        wrong = [k for k in expected.keys() & stored.keys() if expected[k] != stored[k]]
        if missing or extra:
            what = f"missing {missing[0]!r}" if missing else f"unexpected {extra[0]!r}"
        else:
            k = sorted(wrong)[0]
            what = f"{k!r} has shape {list(stored[k])}, the header {list(expected[k])}"
        raise ValueError(
            f"{path}: the weights do not fit the stored architecture ({what})."
        )


def _set_fitted(step, spec):
    """A step's fitted input description, as ``fit`` left it."""
    n_features = spec.get("n_features_in")
    if n_features is not None:
        step.n_features_in_ = int(n_features)
    if spec.get("feature_names_in") is not None:
        step.feature_names_in_ = np.asarray(spec["feature_names_in"], dtype=object)


def load_model(path):
    """Load a model saved by :func:`save_model`, without running any code.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.

    Returns
    -------
    model : FashionMLP, FashionCNN, FastFashionCNN or Pipeline
        The fitted estimator (or pipeline), with its parameters and
        ``history_``, ready to predict: on its saved ``device`` where this
        machine has it, else on the CPU (``device_``).

    Raises
    ------
    ValueError
        If the file is truncated or corrupt, not a skfashion model, or its
        weights do not fit its architecture; the message names the file.

    See Also
    --------
    save_model : Write such a file.

    Examples
    --------
    >>> from skfashion import load_model
    >>> load_model("no-such-file.safetensors")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: no-such-file.safetensors: not a readable skfashion model file ...
    """
    return _load(path)[0]


def load_detector(path):
    """Load the novelty detector saved with a model, over that model.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model` with a ``detector``.

    Returns
    -------
    detector : NoveltyDetector
        Fitted, its ``estimator`` the file's model.

    Raises
    ------
    ValueError
        If the file holds no detector, or as :func:`load_model`.

    Examples
    --------
    >>> from skfashion.io import load_detector
    >>> load_detector("no-such-file.safetensors")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: no-such-file.safetensors: not a readable skfashion model file ...
    """
    model, detector = load_with_detector(path)
    if detector is None:
        raise ValueError(
            f"{path}: holds no novelty detector (save_model(model, path, "
            "detector=NoveltyDetector(model).fit(X)) stores one)."
        )
    return detector


def load_with_detector(path):
    """The file's model and its detector (None if it has none)."""
    model, header, tensors = _load(path)
    if "novelty" not in header:
        return model, None
    detector = detector_from_file(header["novelty"], tensors, model, path)
    _check_detector_fits(detector, path)
    return model, detector


def _check_detector_fits(detector, path):
    if detector.method not in ("mahalanobis", "vim"):
        return
    _, net = split_pipeline(detector.estimator)
    last = [m for m in net.module_.modules() if isinstance(m, torch.nn.Linear)][-1]
    if detector.method == "mahalanobis":
        k, d = detector.class_means_.shape
    else:
        k, d = 0, len(detector.vim_origin_)
    if d != last.in_features or k > last.out_features:
        raise ValueError(
            f"{path}: the detector's {detector.method} arrays ({d} features) do "
            f"not fit the network's last layer ({last.in_features} features)."
        )


def _load(path):
    """The model, the header and the detector's tensors of a file."""
    header, tensors = _read(path)
    extra = {k: tensors.pop(k) for k in list(tensors) if k.startswith(PREFIX)}
    specs = _checked_steps(header, path)
    try:
        for spec in specs:  # every name, before anything is built
            _check_names(spec["params"])
        specs[-1] = {**specs[-1], "params": _for_prediction(specs[-1]["params"])}
        steps = [(spec["name"], _build(spec)) for spec in specs]
        for spec, (_, step) in zip(specs, steps, strict=True):
            _set_fitted(step, spec)
        net = steps[-1][1]
        net.set_fitted_state(header)  # the classes build the network
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise ValueError(f"{path}: malformed skfashion model header ({exc}).") from None
    _check_shapes(net, tensors, path)
    net.resolve_placement(cpu_fallback=True)  # saved on a GPU, loaded on a CPU
    history, net.history_ = net.history_, None  # skorch's initialize clears it
    try:
        with torch.random.fork_rng(devices=[]):  # initialize draws random weights
            net.initialize_placed()
    except Exception as exc:  # parameters that build no network
        raise ValueError(f"{path}: cannot build the stored network ({exc}).") from None
    net.history_ = history
    try:
        net.module_.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(
            f"{path}: the weights do not fit the stored architecture ({first})."
        ) from None
    net.module_.eval()
    model = net if steps[0][0] is None else Pipeline(steps)
    return model, header, extra
