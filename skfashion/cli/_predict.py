"""``skfashion predict``: classify your own pictures with a saved model."""

import json
import sys

import numpy as np

from ._common._models import add_model_argument, load_predictor

HELP = "classify pictures (PNG, JPEG, ...) with a model saved by `report`"


def add_parser(sub):
    p = sub.add_parser("predict", help=HELP, description=HELP + ".")
    add_model_argument(p)
    p.add_argument("images", nargs="+", metavar="IMAGE", help="picture files")
    p.add_argument("--top", type=int, default=3, help="classes to show (default: 3)")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(run=run)
    return p


def run(args, parser):
    from skfashion import ImagePreprocessor, preprocess_image
    from skfashion.datasets._fashion_mnist import class_name

    if args.top < 1:
        print("skfashion predict: error: --top must be at least 1", file=sys.stderr)
        return 2
    try:
        model = load_predictor(
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
