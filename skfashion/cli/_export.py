"""``skfashion export``: a saved model as a Triton model repository."""

import sys

from skfashion import io

from ._common import add_model_argument

HELP = "write a saved model as an NVIDIA Triton model repository"
N_CALIBRATION = io.N_CALIBRATION


def add_parser(sub):
    p = sub.add_parser("export", help=HELP, description=HELP + ".")
    add_model_argument(p)
    p.add_argument(
        "--triton",
        required=True,
        metavar="DIR",
        help="the model repository to write NAME/1/model.onnx, NAME/config.pbtxt "
        "and NAME/labels.txt into (made if missing)",
    )
    p.add_argument(
        "--name", default="skfashion", help="the model's name (default: skfashion)"
    )
    p.add_argument(
        "--int8",
        action="store_true",
        help="a statically quantized int8 graph, calibrated on the last "
        f"{N_CALIBRATION} Fashion-MNIST training images",
    )
    p.add_argument(
        "--max-batch-size",
        type=int,
        default=256,
        help="the largest batch Triton sends the model (default: 256)",
    )
    p.add_argument("--data-home", metavar="DIR", help="where to look for the data")
    p.set_defaults(run=run)
    return p


def _error(message):
    print(f"skfashion export: error: {message}", file=sys.stderr)


def run(args, parser):
    try:
        predictor = io.load_predictor(
            args.model,
            allow_pickle=args.allow_pickle,
            warn=lambda m: print(f"skfashion export: warning: {m}", file=sys.stderr),
        )
    except ValueError as exc:
        _error(exc)
        return 2
    if predictor.platform == "onnxruntime":
        _error(
            f"{args.model} is an ONNX graph: export from the model.safetensors "
            "it was made from (the graph is rewritten with its config)"
        )
        return 2
    detector, reason = io.graph_detector(predictor.detector)
    if reason:
        print(f"skfashion export: warning: {reason}", file=sys.stderr)
    calibration = None
    if args.int8:
        calibration = _calibration(predictor, args.data_home)
        if calibration is None:
            return 2
    try:
        folder = io.export_triton(
            predictor.model,
            args.triton,
            name=args.name,
            quantize="int8" if args.int8 else None,
            calibration=calibration,
            detector=detector,
            max_batch_size=args.max_batch_size,
            card=predictor.card or io.find_card(predictor.source, build=True),
        )
    except (ValueError, OSError) as exc:
        _error(exc)
        return 2
    print(f"wrote {folder} (tritonserver --model-repository {args.triton})")
    return 0


def _calibration(predictor, data_home):
    """The last training images, as the model takes them, or None."""
    if predictor.n_features != 784:
        _error(
            f"--int8 calibrates on Fashion-MNIST's 28x28 images; the model takes "
            f"{predictor.n_features} pixels"
        )
        return None
    try:
        return io.calibration_images(data_home=data_home)
    except (OSError, ValueError) as exc:
        _error(f"--int8 needs the Fashion-MNIST training images: {exc}")
        return None
