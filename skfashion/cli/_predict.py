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
        help="a fitted pipeline saved with joblib, e.g. report/cnn/model.pkl",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="picture files")
    p.add_argument("--top", type=int, default=3, help="classes to show (default: 3)")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(run=run)
    return p


def _load_model(path):
    import joblib

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such model file")
    try:
        model = joblib.load(path)
    except Exception as exc:  # a corrupt pickle raises many kinds of errors
        raise ValueError(f"{path}: not a readable model file ({exc})") from None
    if not hasattr(model, "predict_proba"):
        raise ValueError(f"{path}: holds a {type(model).__name__}, not a classifier")
    return model


def run(args, parser):
    from skfashion import CLASS_NAMES, preprocess_image

    if args.top < 1:
        print("skfashion predict: error: --top must be at least 1", file=sys.stderr)
        return 2
    try:
        model = _load_model(args.model)
    except ValueError as exc:
        print(f"skfashion predict: error: {exc}", file=sys.stderr)
        return 2
    classes = np.asarray(model.classes_)
    names = [
        CLASS_NAMES[c] if isinstance(c, int | np.integer) and 0 <= c < 10 else str(c)
        for c in classes
    ]
    failures = 0
    for image in args.images:
        try:
            pixels = preprocess_image(image)
        except (ValueError, OSError) as exc:
            print(f"skfashion predict: error: {exc}", file=sys.stderr)
            failures += 1
            continue
        proba = model.predict_proba(pixels[None, :])[0]
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
