"""``skfashion report``'s configuration: the command line, checked once and
turned into one frozen :class:`ReportConfig`."""

from dataclasses import dataclass
from pathlib import Path

from ..._catalog import ORIGINAL, TITLES
from .._common import ArgumentError, RunBuilder, check_device

__all__ = [
    "N_VALID",
    "ORIGINAL",
    "QUICK",
    "TITLES",
    "ReportConfig",
    "config_from_args",
]

N_VALID = 5000  # the original: the first 5,000 training images validate
QUICK = {"n_train": 600, "n_valid": 100, "n_test": 300}


@dataclass(frozen=True)
class ReportConfig:
    """What one run of ``skfashion report`` does, decided once from the
    command line; every step below takes it, never the parser's namespace."""

    models: tuple  # short names, in order
    seeds: dict  # name -> the random states of its fits
    epochs: dict  # name -> epochs of each fit
    out: Path
    device: str = "auto"
    precision: str = "auto"
    quick: bool = False
    resume: bool = False
    data_home: str = None
    onnx: str | None = None  # None, "float32" or "int8"

    @property
    def run(self):
        """The run's data and pipelines (:class:`RunBuilder`)."""
        return RunBuilder.of(self, quick_sizes=QUICK)

    def settings(self):
        """What decides the run's training: its checkpoints are kept by these."""
        return {
            "models": list(self.models),
            "random_states": {m: list(s) for m, s in self.seeds.items()},
            "epochs": dict(self.epochs),
            "quick": self.quick,
            "device": self.device,
            "precision": self.precision,
            "data_home": self.data_home,
        }


def config_from_args(args):
    """The run's :class:`ReportConfig`, or an ArgumentError naming what is
    wrong with the command line."""
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in TITLES]
    if unknown or not models:
        raise ArgumentError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(TITLES)}"
        )
    if args.epochs is not None and args.epochs < 1:
        raise ArgumentError(f"--epochs must be at least 1, got {args.epochs}")
    onnx = getattr(args, "onnx", None)
    if onnx and not _onnx_installed():
        raise ArgumentError(
            '--onnx needs the onnx extra: pip install "skfashion[onnx]"'
        )
    counts = _parse_seeds(args.seeds, models)
    check_device(args.device)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArgumentError(f"--out {out} exists and is not a folder")
    models = tuple(dict.fromkeys(models))
    return ReportConfig(
        models=models,
        seeds={
            m: tuple(args.random_state + i for i in range(counts[m])) for m in models
        },
        epochs={m: _epochs(m, args.epochs, args.quick) for m in models},
        out=out,
        device=args.device,
        precision=args.precision,
        quick=args.quick,
        resume=args.resume,
        data_home=args.data_home,
        onnx=onnx,
    )


def _onnx_installed():
    import importlib.util

    needed = ("onnx", "onnxscript", "onnxruntime", "skl2onnx")
    return all(importlib.util.find_spec(name) for name in needed)


def _epochs(name, epochs, quick):
    """--epochs, else 1 with --quick, else the original's (its two models)
    or the estimator's own."""
    if epochs is not None:
        return epochs
    if quick:
        return 1
    if name in ORIGINAL:
        return ORIGINAL[name]["epochs"]
    from skfashion.neural_network import CLASSIFIERS

    return CLASSIFIERS[name]().max_epochs


def _parse_seeds(text, models):
    """``--seeds``: "3" for every model, or "mlp=3,cnn=1" (others: 1)."""
    counts = dict.fromkeys(models, 1)
    try:
        if "=" not in text:
            counts = dict.fromkeys(models, int(text))
        else:
            for item in text.split(","):
                name, _, n = item.partition("=")
                if name.strip() not in counts:
                    raise ArgumentError(
                        f"--seeds names {name.strip()!r}, which is not in --models"
                    )
                counts[name.strip()] = int(n)
    except ValueError:
        raise ArgumentError(
            f"--seeds must be a number or model=number pairs, got {text!r}"
        ) from None
    low = min(counts.values())
    if low < 1:
        raise ArgumentError(f"--seeds must be at least 1, got {low}")
    return counts
