"""Safe model files: weights as safetensors, parameters as JSON. No pickle.

A pickle runs code when it is loaded; a safetensors file holds only tensors
and a string header, so loading a model from someone else cannot execute
anything. The estimator's parameters, classes and pipeline steps go into the
file's metadata as JSON.
"""

import json
import numbers
import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["load_model", "save_model"]

FORMAT = "skfashion-model"
FORMAT_VERSION = 1


def _registry():
    from ._cnn import FashionCNN
    from ._image import ImagePreprocessor
    from ._mlp import FashionMLP
    from ._preprocessing import PixelScaler

    return {
        cls.__name__: cls
        for cls in (FashionMLP, FashionCNN, PixelScaler, ImagePreprocessor)
    }


def _jsonable(value):
    """A parameter as JSON, or raise TypeError if it isn't plain data."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    raise TypeError(type(value).__name__)


def _step_params(step):
    """The plain-data constructor parameters of a step."""
    from ._base import FashionNetBase

    params = {}
    defaults = type(step)().get_params(deep=False)
    for name, value in step.get_params(deep=False).items():
        if isinstance(step, FashionNetBase) and name == "module":
            if value is not defaults["module"]:
                raise ValueError(
                    "save_model stores the built-in networks only; a custom module "
                    f"({value!r}) needs its code: save the model with joblib."
                )
            continue
        try:
            params[name] = _jsonable(value)
        except TypeError:
            continue  # training-only objects: optimizer, callbacks, iterators
    return params


def save_model(model, path):
    """Save a fitted skfashion estimator or pipeline as a safe model file.

    The weights are written as safetensors and the estimator's parameters,
    classes and pipeline steps as JSON in the same file. Unlike a pickle,
    loading the file with :func:`load_model` never runs code from it.

    Parameters
    ----------
    model : FashionMLP, FashionCNN or Pipeline
        A fitted estimator, or a fitted pipeline of skfashion steps
        (``ImagePreprocessor``, ``PixelScaler``) ending in one.
    path : str or path-like
        The file to write (conventionally ``*.safetensors``). It is written
        to a temporary file first, so a failed save leaves any previous file
        intact.

    Raises
    ------
    ValueError
        If the model is not fitted, or holds a step or module that cannot be
        stored without code.

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
    from safetensors.torch import save_file
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from ._base import FashionNetBase

    steps = list(model.steps) if isinstance(model, Pipeline) else [(None, model)]
    registry = _registry()
    net = steps[-1][1]
    if not isinstance(net, FashionNetBase):
        raise ValueError(
            "save_model needs a FashionMLP or FashionCNN, or a pipeline ending in "
            f"one; got {type(net).__name__}."
        )
    check_is_fitted(net)
    spec = []
    for name, step in steps:
        kind = type(step).__name__
        if registry.get(kind) is not type(step):
            raise ValueError(
                f"save_model cannot store a {kind} step without its code: "
                "save the model with joblib."
            )
        spec.append({"name": name, "class": kind, "params": _step_params(step)})
    classes = net.classes_
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "steps": spec,
        "classes": [_jsonable(c.item() if hasattr(c, "item") else c) for c in classes],
        "n_features_in": int(net.n_features_in_),
    }
    from . import __version__

    header["skfashion"] = __version__
    tensors = {
        k: v.detach().cpu().contiguous() for k, v in net.module_.state_dict().items()
    }
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, tmp, metadata={"skfashion": json.dumps(header)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def is_model_file(path):
    """Whether ``path`` looks like a safetensors file (checks 9 bytes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] > 1


def _read(path):
    from safetensors import safe_open

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
    except (KeyError, ValueError, TypeError):
        raise ValueError(
            f"{path}: a safetensors file, but not one written by skfashion's "
            "save_model."
        ) from None
    if header.get("version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path}: written by a newer skfashion ({header.get('skfashion')}); "
            "upgrade skfashion to read it."
        )
    return header, tensors


def load_model(path):
    """Load a model saved by :func:`save_model`, without running any code.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.

    Returns
    -------
    model : FashionMLP, FashionCNN or Pipeline
        The fitted estimator (or pipeline), on the CPU, ready to predict.

    Raises
    ------
    ValueError
        If the file is truncated or corrupt, not a skfashion model, or its
        weights do not fit its architecture; the message names the file.

    See Also
    --------
    save_model : Write such a file.
    """
    import torch
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import LabelEncoder

    from ._base import resolve_device, resolve_precision

    header, tensors = _read(path)
    registry = _registry()
    steps = []
    try:
        for spec in header["steps"]:
            cls = registry[spec["class"]]  # only known classes, never imports
            params = {
                k: tuple(v) if isinstance(v, list) else v
                for k, v in spec["params"].items()
            }
            steps.append((spec["name"], cls(**params)))
        classes = np.asarray(header["classes"])
        n_features = int(header["n_features_in"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: malformed skfashion model header ({exc}).") from None
    net = steps[-1][1]
    net.label_encoder_ = LabelEncoder().fit(classes)
    net.n_features_in_ = n_features
    if net.device != "auto" and not torch.cuda.is_available():
        net.device = "cpu"  # a model trained on a GPU, loaded on a CPU
    net.device_ = resolve_device(net.device)
    net.precision_ = resolve_precision(net.precision, net.device_)
    with torch.random.fork_rng(devices=[]):  # initialize draws random weights
        net.initialize()
    try:
        net.module_.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(
            f"{path}: the weights do not fit the stored architecture ({first})."
        ) from None
    net.module_.eval()
    for _, step in steps[:-1]:
        if isinstance(step, registry["PixelScaler"]):
            step.n_features_in_ = n_features
    if steps[0][0] is None:
        return net
    return Pipeline(steps)
