"""``skfashion predict``: classify your own pictures with a saved model."""

import json
import sys
from dataclasses import dataclass

from skfashion import io

from ._common import add_model_argument

HELP = "classify pictures (PNG, JPEG, ...) with a model saved by `report`"


@dataclass(frozen=True)
class PredictConfig:
    """What ``skfashion predict`` was asked for."""

    model: str
    allow_pickle: bool
    images: tuple
    top: int
    json: bool


def add_parser(sub):
    p = sub.add_parser("predict", help=HELP, description=HELP + ".")
    add_model_argument(p)
    p.add_argument("images", nargs="+", metavar="IMAGE", help="picture files")
    p.add_argument("--top", type=int, default=3, help="classes to show (default: 3)")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(run=run)
    return p


def _error(message):
    print(f"skfashion predict: error: {message}", file=sys.stderr)


def run(args, parser):
    config = PredictConfig(
        args.model, args.allow_pickle, tuple(args.images), args.top, args.json
    )
    if config.top < 1:
        _error("--top must be at least 1")
        return 2
    try:
        predictor = io.load_predictor(
            config.model,
            allow_pickle=config.allow_pickle,
            warn=lambda m: print(f"skfashion predict: warning: {m}", file=sys.stderr),
        )
    except ValueError as exc:
        _error(exc)
        return 2
    failures = 0
    for image in config.images:
        try:
            row = predictor.pixels(image)[None, :]
            proba = predictor.predict_proba(row)
        except (ValueError, OSError) as exc:
            _error(exc)
            failures += 1
            continue
        decimals = 4 if config.json else None
        best = predictor.top(proba, config.top, decimals=decimals)[0]
        print(_line(image, best, config.json, _garment(predictor, row)))
    return 1 if failures else 0


def _garment(predictor, row):
    """What the model's novelty detector says of a picture, if it has one."""
    if predictor.detector is None:
        return None
    scores, accepted = predictor.garment(row)
    threshold = predictor.detector.offset_
    return {
        "garment": bool(accepted[0]),
        "score": float(scores[0]),
        "threshold": threshold,
    }


def _line(image, best, as_json, garment=None):
    if as_json:
        line = {"image": image, "predictions": best}
        if garment is not None:
            line.update(
                garment=garment["garment"],
                garment_score=round(garment["score"], 4),
                garment_threshold=round(garment["threshold"], 4),
            )
        return json.dumps(line)
    guesses = ", ".join(f"{b['label']} {100 * b['probability']:.1f} %" for b in best)
    if garment is not None and not garment["garment"]:
        guesses += (
            f" -- not a garment? (score {garment['score']:.4g}, below the "
            f"threshold {garment['threshold']:.4g})"
        )
    return f"{image}: {guesses}"
