"""The report's settings as one frozen value, checked once."""

import importlib.util
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

from .._catalog import ORIGINAL, TITLES
from ._builder import RunBuilder

__all__ = ["N_VALID", "QUICK", "ReportConfig", "run_fits"]

N_VALID = 5000  # the original: the first 5,000 training images validate
#: What ``quick=True`` trains on and scores: a smoke test of the protocol.
QUICK = {"n_train": 600, "n_valid": 100, "n_test": 300}
ONNX = (None, "float32", "int8")
ONNX_EXTRA = ("onnx", "onnxscript", "onnxruntime", "skl2onnx")


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {value!r}.")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}.")
    return int(value)


def _per_model(value, models, what):
    """``value`` for every model, or a mapping of some models to theirs."""
    if not isinstance(value, Mapping):
        return dict.fromkeys(models, value)
    unknown = [name for name in value if name not in models]
    if unknown:
        raise ValueError(
            f"{what} names {unknown[0]!r}, which is not in models {models}."
        )
    return {name: value.get(name) for name in models}


@dataclass(frozen=True)
class ReportConfig:
    """The settings of one run of the report, as a value.

    Everything :func:`run_report` does is decided here, checked when the
    value is made: which models train, how many fits of each (seeds), for
    how many epochs, on how much data, where and in which precision. The
    command line ``skfashion report`` turns its options into one of these.

    Parameters
    ----------
    models : str or sequence of str, default=("mlp", "cnn")
        Short names of the models, in order: ``"mlp"`` (:class:`~skfashion.FashionMLP`),
        ``"cnn"`` (:class:`~skfashion.FashionCNN`), ``"fast"``
        (:class:`~skfashion.FastFashionCNN`). Repeats are dropped.
    seeds : int or dict, default=1
        Fits of each model, with random states ``random_state``,
        ``random_state + 1``, ...; a number for every model, or a dict of
        some models to theirs (the others: 1).
    random_state : int, default=0
        The random state of each model's first fit.
    epochs : int, dict or None, default=None
        Epochs of every fit: a number, or a dict of some models to theirs.
        By default the original report's 10 for ``mlp`` and ``cnn``, the
        estimator's own ``max_epochs`` for ``fast``, and 1 with ``quick``.
    quick : bool, default=False
        Train on 600 images (100 of them validate) and score 300: a smoke
        test of the whole protocol, not a result.
    device : str, default="auto"
        ``"auto"``, ``"cpu"`` or ``"cuda"`` (``"cuda:N"``).
    precision : str, default="auto"
        Training precision (:data:`skfashion.utils.PRECISIONS`).
    data_home : str, path-like or None, default=None
        Where to look for Fashion-MNIST first.
    onnx : {None, "float32", "int8"}, default=None
        Also write each model as ``model.onnx``; ``"int8"`` adds
        ``model-int8.onnx``, calibrated on 500 training images.
    n_jobs : int or None, default=None
        Fits trained at once, through joblib (``None``: one, in this
        process, with progress per batch; inside
        ``joblib.parallel_config(backend="dask")`` the fits go to a Dask
        cluster).
    held_out : "all", sequence of sequences of int or None, default=()
        Classes the model never learns, to measure how well each novelty
        detector flags them: per split (a sequence of class indices), one
        more fit of each model (its first random state) on the training
        images of the other classes, measured by
        :func:`~skfashion.evaluation.held_out_class_detection`; ``"all"``:
        every split of :data:`~skfashion.evaluation.HELD_OUT_SPLITS`. The
        numbers go into each model's "Under shift" section. Repeated splits
        are dropped.

    Examples
    --------
    >>> from skfashion.experiments import ReportConfig
    >>> config = ReportConfig(models="mlp", seeds=3, quick=True)
    >>> config.random_states, config.model_epochs
    ({'mlp': (0, 1, 2)}, {'mlp': 1})
    >>> ReportConfig(models=("cnn", "mlp")).model_epochs
    {'cnn': 10, 'mlp': 10}
    >>> ReportConfig(held_out=[(6, 5), [0, 9]]).held_out
    ((6, 5), (0, 9))
    """

    models: tuple = ("mlp", "cnn")
    seeds: int | Mapping = 1
    random_state: int = 0
    epochs: int | Mapping | None = None
    quick: bool = False
    device: str = "auto"
    precision: str = "auto"
    data_home: str | None = None
    onnx: str | None = None
    n_jobs: int | None = None
    held_out: str | tuple = ()

    def __post_init__(self):
        models = (self.models,) if isinstance(self.models, str) else self.models
        models = tuple(dict.fromkeys(models))
        unknown = [m for m in models if m not in TITLES]
        if unknown or not models:
            raise ValueError(
                f"Unknown model(s) {', '.join(map(repr, unknown)) or '(none given)'}:"
                f" choose from {', '.join(TITLES)}."
            )
        object.__setattr__(self, "models", models)  # a tuple, whatever was given
        counts = _per_model(self.seeds, models, "seeds")
        for name, n in counts.items():
            _count(1 if n is None else n, f"seeds of {name}")
        epochs = _per_model(self.epochs, models, "epochs")
        for name, n in epochs.items():
            if n is not None:
                _count(n, f"epochs of {name}")
        if isinstance(self.random_state, bool) or not isinstance(
            self.random_state, numbers.Integral
        ):
            raise TypeError(f"random_state must be an int, got {self.random_state!r}.")
        if self.onnx not in ONNX:
            raise ValueError(f"onnx must be one of {ONNX}, got {self.onnx!r}.")
        missing = [m for m in ONNX_EXTRA if not importlib.util.find_spec(m)]
        if self.onnx and missing:  # refused now, not after hours of training
            raise ImportError(
                f"onnx={self.onnx!r} needs {', '.join(missing)}: "
                'pip install "skfashion[onnx]".'
            )
        if self.n_jobs is not None and not isinstance(self.n_jobs, numbers.Integral):
            raise TypeError(f"n_jobs must be an int or None, got {self.n_jobs!r}.")
        _check_machine(self.device, self.precision)
        object.__setattr__(self, "held_out", _held_out_splits(self.held_out))

    @property
    def random_states(self):
        """Each model's random states, one per fit."""
        counts = _per_model(self.seeds, self.models, "seeds")
        return {
            m: tuple(self.random_state + i for i in range(counts[m] or 1))
            for m in self.models
        }

    @property
    def model_epochs(self):
        """Each model's epochs per fit."""
        given = _per_model(self.epochs, self.models, "epochs")
        return {m: given[m] or _default_epochs(m, self.quick) for m in self.models}

    @property
    def n_valid(self):
        """The first training images, which validate and are never trained on."""
        return QUICK["n_valid"] if self.quick else N_VALID

    @property
    def builder(self):
        """The run's data and pipelines (:class:`RunBuilder`)."""
        return RunBuilder.of(self, quick_sizes=QUICK)

    def settings(self):
        """What decides the run's training, as JSON-able values: checkpoints
        are kept by these, so that a run resumes only a run like it."""
        return {
            "models": list(self.models),
            "random_states": {m: list(s) for m, s in self.random_states.items()},
            "epochs": dict(self.model_epochs),
            "quick": self.quick,
            "device": self.device,
            "precision": self.precision,
            "data_home": None if self.data_home is None else str(self.data_home),
        } | (  # only when asked: a run without them keeps its checkpoints' key
            {"held_out": [list(split) for split in self.held_out]}
            if self.held_out
            else {}
        )


def run_fits(random_states, held_out):
    """Each model's fits in the order a run trains them, as ``(seed,
    held_out)`` pairs: one per random state, then one per split of
    ``held_out`` (the model's first random state, without those classes).

    Examples
    --------
    >>> run_fits({"mlp": (0, 1)}, [(6, 5)])
    {'mlp': [(0, ()), (1, ()), (0, (6, 5))]}
    """
    return {
        name: [(seed, ()) for seed in seeds]
        + [(seeds[0], tuple(split)) for split in held_out]
        for name, seeds in random_states.items()
    }


def _held_out_splits(value):
    """``held_out`` as a tuple of splits, each a tuple of distinct class
    indices that leaves at least two classes to learn."""
    from ..datasets import CLASS_NAMES
    from ..evaluation import HELD_OUT_SPLITS

    if isinstance(value, str):
        if value != "all":
            raise ValueError(
                f"held_out must be 'all' or a sequence of splits, got {value!r}."
            )
        return tuple(HELD_OUT_SPLITS)
    if value is None:
        return ()
    example = "a sequence of splits, each a sequence of classes, such as [(6, 5)]"
    if isinstance(value, numbers.Integral):
        raise TypeError(f"held_out must be {example}; got {value!r}.")
    splits = []
    for split in value:
        if isinstance(split, (str, numbers.Integral)) or not hasattr(split, "__iter__"):
            raise TypeError(f"held_out must be {example}; got {value!r}.")
        split = tuple(split)
        n = len(CLASS_NAMES)
        bad = [
            c
            for c in split
            if isinstance(c, bool)
            or not isinstance(c, numbers.Integral)
            or not 0 <= c < n
        ]
        if bad or not split:
            raise ValueError(
                f"held_out's split {split} must name classes 0 to {n - 1}"
                + (f"; {bad[0]!r} is not one." if bad else ".")
            )
        if len(set(split)) != len(split) or len(split) > n - 2:
            raise ValueError(
                f"held_out's split {split} must name distinct classes and leave "
                "at least two to learn."
            )
        splits.append(tuple(int(c) for c in split))
    return tuple(dict.fromkeys(splits))


def _default_epochs(name, quick):
    """1 with quick, else the original's (its two models) or the
    estimator's own."""
    if quick:
        return 1
    if name in ORIGINAL:
        return ORIGINAL[name]["epochs"]
    from ..neural_network import CLASSIFIERS

    return CLASSIFIERS[name]().max_epochs


def _check_machine(device, precision):
    """``device``: auto, cpu or cuda[:N], and present; ``precision`` known."""
    from ..utils import PRECISIONS

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if not isinstance(device, str) or (
        device not in ("auto", "cpu") and not device.startswith("cuda")
    ):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}.")
    if device != "auto":
        from ..utils import resolve_device

        resolve_device(device)  # a ValueError naming what is missing
