"""``skfashion predict``: classify your own pictures with a saved model."""

import json
import sys
from pathlib import Path

import numpy as np

HELP = "classify pictures (PNG, JPEG, ...) with a model saved by `report`"


def add_parser(sub):
    p = sub.add_parser("predict", help=HELP, description=HELP + ".")
    p.add_argument(
        "--model",
        required=True,
        help=(
            "a model file (model.safetensors from save_model, model.onnx from "
            "export_onnx, or a .pkl/.joblib pickle, which runs code when loaded) "
            "or a folder holding one, e.g. report/cnn"
        ),
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="picture files")
    p.add_argument("--top", type=int, default=3, help="classes to show (default: 3)")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(run=run)
    return p


PICKLE_SUFFIXES = (".pkl", ".joblib")


class OnnxModel:
    """A model file written by ``export_onnx``, run by onnxruntime, with the
    ``classes_`` and ``predict_proba`` that ``predict`` uses."""

    def __init__(self, path):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ValueError(
                f"{path}: running an ONNX model needs onnxruntime (pip install "
                '"skfashion[onnx]")'
            ) from None
        try:
            self.session = ort.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]
            )
            meta = self.session.get_modelmeta().custom_metadata_map
            self.classes_ = np.asarray(json.loads(meta["classes"]))
        except Exception as exc:  # onnxruntime raises its own error types
            raise ValueError(
                f"{path}: not a model written by export_onnx ({exc})"
            ) from None
        self.input = self.session.get_inputs()[0]
        # a bare classifier trained on [0, 1] gets the pixels scaled to it
        self.scale = float(meta.get("input_max") or 255) <= 1.0

    def predict_proba(self, X):
        X = np.asarray(X)
        if self.input.type == "tensor(uint8)":
            X = X.astype(np.uint8)
        else:
            X = X.astype(np.float32) / (255.0 if self.scale else 1.0)
        return self.session.run(["probabilities"], {self.input.name: X})[0]


def _load_model(path, warn):
    """Load a safe model file, or a pickle by its suffix; in a folder,
    prefer the safe file. ``warn`` prints one line."""
    import joblib

    from skfashion import load_model
    from skfashion._persistence import is_model_file

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
        return OnnxModel(path)
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


def run(args, parser):
    from skfashion import ImagePreprocessor, preprocess_image
    from skfashion._plotting import class_name

    if args.top < 1:
        print("skfashion predict: error: --top must be at least 1", file=sys.stderr)
        return 2
    try:
        model = _load_model(
            args.model,
            warn=lambda m: print(f"skfashion predict: warning: {m}", file=sys.stderr),
        )
    except ValueError as exc:
        print(f"skfashion predict: error: {exc}", file=sys.stderr)
        return 2
    classes = np.asarray(model.classes_)
    names = [class_name(c) for c in classes]
    steps = getattr(model, "steps", [(None, model)])
    takes_pictures = isinstance(steps[0][1], ImagePreprocessor)
    failures = 0
    for image in args.images:
        try:
            # a pipeline that starts with ImagePreprocessor converts pictures itself
            X = [image] if takes_pictures else preprocess_image(image)[None, :]
            proba = model.predict_proba(X)[0]
        except (ValueError, OSError) as exc:
            print(f"skfashion predict: error: {exc}", file=sys.stderr)
            failures += 1
            continue
        top = np.argsort(proba)[::-1][: args.top]
        if args.json:
            print(
                json.dumps(
                    {
                        "image": image,
                        "predictions": [
                            {
                                "label": names[i],
                                "probability": round(float(proba[i]), 4),
                            }
                            for i in top
                        ],
                    }
                )
            )
        else:
            guesses = ", ".join(f"{names[i]} {100 * proba[i]:.1f} %" for i in top)
            print(f"{image}: {guesses}")
    return 1 if failures else 0
