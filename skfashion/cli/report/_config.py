"""``skfashion report``'s options, checked once and turned into one frozen
:class:`skfashion.experiments.ReportConfig`."""

from pathlib import Path

from skfashion import experiments

from .._common import ArgumentError, check_device

__all__ = ["config_from_args"]


def config_from_args(args):
    """``(config, out)``: the run's ReportConfig and the output folder, or an
    ArgumentError naming what is wrong with the command line."""
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.epochs is not None and args.epochs < 1:
        raise ArgumentError(f"--epochs must be at least 1, got {args.epochs}")
    check_device(args.device)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArgumentError(f"--out {out} exists and is not a folder")
    try:
        return experiments.ReportConfig(
            models=tuple(models),
            seeds=_parse_seeds(args.seeds),
            random_state=args.random_state,
            epochs=args.epochs,
            quick=args.quick,
            device=args.device,
            precision=args.precision,
            data_home=args.data_home,
            onnx=args.onnx,
            n_jobs=args.n_jobs,
            held_out=_parse_held_out(args.held_out),
        ), out
    except ValueError as exc:  # the library names the parameter: say the option
        raise ArgumentError(_as_option(str(exc))) from None
    except ImportError:
        raise ArgumentError(
            '--onnx needs the onnx extra: pip install "skfashion[onnx]"'
        ) from None


def _as_option(message):
    for name in ("seeds", "epochs", "models", "n_jobs"):
        message = message.replace(f"{name} ", f"--{name.replace('_', '-')} ")
    return message.replace("held_out", "--held-out").rstrip(".")


def _parse_seeds(text):
    """``--seeds``: "3" for every model, or "mlp=3,cnn=1" (others: 1)."""
    try:
        if "=" not in text:
            return int(text)
        return {
            name.strip(): int(n)
            for name, _, n in (item.partition("=") for item in text.split(","))
        }
    except ValueError:
        raise ArgumentError(
            f"--seeds must be a number or model=number pairs, got {text!r}"
        ) from None


def _parse_held_out(values):
    """``--held-out``: "all", or comma-separated class indices per split."""
    if not values:
        return ()
    if "all" in values:
        if len(values) > 1:
            raise ArgumentError("--held-out all names every split: give it alone")
        return "all"
    try:
        return [[int(c) for c in value.split(",")] for value in values]
    except ValueError:
        raise ArgumentError(
            "--held-out must be 'all' or comma-separated class indices such as "
            f"6,5; got {' '.join(values)!r}"
        ) from None
