"""The models a command can run: a safe model file, an ONNX graph, a pickle,
or a folder holding one (a report's model folder)."""

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["OnnxModel", "add_model_argument", "load_predictor"]

PICKLE_SUFFIXES = (".pkl", ".joblib")


class OnnxModel:
    """A model file written by ``export_onnx``, run by onnxruntime, with the
    ``classes_`` and ``predict_proba`` that ``predict`` uses.

    ``spinning=False``: onnxruntime's threads sleep between calls instead of
    spinning for more work. A server wants that: spinning threads take the
    cores its event loop needs between calls.
    """

    def __init__(self, path, *, spinning=True):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ValueError(
                f"{path}: running an ONNX model needs onnxruntime (pip install "
                '"skfashion[onnx]")'
            ) from None
        options = ort.SessionOptions()
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
            meta = self.session.get_modelmeta().custom_metadata_map
            self.classes_ = np.asarray(json.loads(meta["classes"]))
        except Exception as exc:  # onnxruntime raises its own error types
            raise ValueError(
                f"{path}: not a model written by export_onnx ({exc})"
            ) from None
        self.path = path
        self.input = self.session.get_inputs()[0]
        # a bare classifier trained on [0, 1] gets the pixels scaled to it
        self.scale = float(meta.get("input_max") or 255) <= 1.0

    def predict_proba(self, X):
        X = np.asarray(X)
        expected = self.input.shape[-1]
        if isinstance(expected, int) and X.shape[-1] != expected:
            raise ValueError(
                f"{self.path}: the model takes {_size(expected)}, got "
                f"{_size(X.shape[-1])}"
            )
        if self.input.type == "tensor(uint8)":
            X = X.astype(np.uint8)
        else:
            X = X.astype(np.float32) / (255.0 if self.scale else 1.0)
        return self.session.run(["probabilities"], {self.input.name: X})[0]


def add_model_argument(parser):
    """``--model``, as ``predict`` and ``serve`` take it."""
    parser.add_argument(
        "--model",
        required=True,
        help=(
            "a model file (model.safetensors from save_model, model.onnx from "
            "export_onnx, or a .pkl/.joblib pickle, which runs code when loaded) "
            "or a folder holding one, e.g. report/cnn"
        ),
    )


def load_predictor(path, warn, **onnx_options):
    """Load a safe model file, or a pickle by its suffix; in a folder,
    prefer the safe file. ``warn`` prints one line; ``onnx_options`` go to
    :class:`OnnxModel`."""
    import joblib

    from skfashion import load_model
    from skfashion.io import is_model_file

    path = Path(path)
    if path.is_dir():
        candidates = [path / "model.safetensors", path / "model.onnx"]
        candidates += [path / f"model{suffix}" for suffix in PICKLE_SUFFIXES]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise ValueError(f"{path}: no model.safetensors or model.pkl in it")
        path = found[0]
    if not path.is_file():
        raise ValueError(f"{path}: no such model file")
    if is_model_file(path):
        return load_model(path)  # never runs code from the file
    if path.suffix.lower() == ".onnx":
        return OnnxModel(path, **onnx_options)
    if path.suffix.lower() not in PICKLE_SUFFIXES:
        raise ValueError(
            f"{path}: not a model file (expected a .safetensors file written by "
            "save_model, a .onnx file written by export_onnx, or a .pkl/.joblib "
            "pickle)"
        )
    warn(
        f"{path} is a pickle, and loading a pickle runs code from it: use only "
        "pickles you trust (model.safetensors files are safe)"
    )
    try:
        model = joblib.load(path)
    except Exception as exc:  # a corrupt pickle raises many kinds of errors
        raise ValueError(f"{path}: not a readable model file ({exc})") from None
    if not hasattr(model, "predict_proba"):
        raise ValueError(f"{path}: holds a {type(model).__name__}, not a classifier")
    return model


def _size(n_pixels):
    """'28x28 images (784 pixels)', or 'rows of N pixels' if not square."""
    side = math.isqrt(n_pixels)
    if side * side == n_pixels:
        return f"{side}x{side} images ({n_pixels} pixels)"
    return f"rows of {n_pixels} pixels"
