"""``skfashion report``: re-run the original report's experiment in one command.

A plain pipeline of small steps -- load, time, train each model, evaluate,
write files, write the report -- built only from skfashion's public API,
scikit-learn and SciPy, so it doubles as the reference example of how to use
the package. ``run`` adds what a command needs around it: the estimate of the
duration, progress, Ctrl-C and cleanup.
"""

import contextlib
import itertools
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._catalog import ORIGINAL, TITLES
from .._hardware import PRECISIONS
from ._args import ArgumentError, check_device
from ._report_checkpoints import RunCheckpoints
from ._report_clock import Clock, Job, format_duration, time_batches
from ._report_files import (
    comparison,
    write_model_files,
    write_recall_figure,
    write_report,
)
from ._report_stats import confused_pairs, per_class_recall, seed_summary
from ._signals import interruptible

HELP = "reproduce the original report: train, evaluate, write a report"

MODELS = TITLES  # the models the report runs, by short name, with their titles
N_VALID = 5000  # the original: the first 5,000 training images validate
QUICK = {"n_train": 600, "n_valid": 100, "n_test": 300}
LONG_RUN = 30 * 60  # seconds: say what would be faster


class _Interrupted(Exception):
    pass


def add_parser(sub):
    p = sub.add_parser("report", help=HELP, description=HELP + ".")
    p.add_argument(
        "--models",
        default="mlp,cnn",
        help="comma-separated models to run: mlp, cnn (the report's two), fast "
        "(FastFashionCNN, a modern recipe) (default: mlp,cnn)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs of every model (default: 10, the report's, for mlp and cnn; "
        "FastFashionCNN's own for fast; 1 with --quick)",
    )
    p.add_argument("--out", default="report", help="output folder (default: report)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="training precision (default: auto)",
    )
    p.add_argument(
        "--random-state", type=int, default=0, help="seed of the first run (default: 0)"
    )
    p.add_argument(
        "--seeds",
        default="1",
        help="repeat each model with this many seeds (random states "
        "--random-state, +1, ...): mean, standard deviation, 95 %% interval; "
        "a number, or one per model such as mlp=3,cnn=1 (default: 1)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a few hundred images and 1 epoch: a smoke test of the whole report",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help=(
            "continue an interrupted run from its per-epoch checkpoints "
            "(in <out>.checkpoints/) instead of starting over"
        ),
    )
    p.add_argument(
        "--onnx",
        action="store_true",
        help="also write each model as model.onnx (export_onnx; the onnx extra)",
    )
    p.add_argument("--data-home", metavar="DIR", help="where to look for the data")
    p.set_defaults(run=run)
    return p


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
    onnx: bool = False

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
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ArgumentError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(MODELS)}"
        )
    if args.epochs is not None and args.epochs < 1:
        raise ArgumentError(f"--epochs must be at least 1, got {args.epochs}")
    onnx = getattr(args, "onnx", False)
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
    from skfashion._registry import CLASSIFIERS

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


# ------------------------------------------------------------------ steps
@dataclass
class Data:
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_valid: int


@dataclass
class Fit:
    """One trained pipeline and what it did on the test set."""

    name: str
    seed: int
    pipe: object
    y_pred: np.ndarray
    proba: np.ndarray
    numbers: dict


def _load(config):
    from skfashion import fetch_fashion_mnist

    train = fetch_fashion_mnist(subset="train", data_home=config.data_home)
    test = fetch_fashion_mnist(subset="test", data_home=config.data_home)
    data = Data(train.data, train.target, test.data, test.target, N_VALID)
    if config.quick:
        data = Data(
            data.X[: QUICK["n_train"]],
            data.y[: QUICK["n_train"]],
            data.X_test[: QUICK["n_test"]],
            data.y_test[: QUICK["n_test"]],
            QUICK["n_valid"],
        )
    return data


def _pipeline(name, config, **params):
    """PixelScaler and the classifier with the report's protocol."""
    from sklearn.pipeline import make_pipeline

    from skfashion import PixelScaler
    from skfashion._registry import CLASSIFIERS

    params = {"device": config.device, "precision": config.precision, **params}
    return make_pipeline(PixelScaler(), CLASSIFIERS[name](**params))


def _plan(config, data, checkpoints):
    """Every fit of the run, each timed on a few batches of its model."""
    jobs = []
    X, y = data.X[data.n_valid :], data.y[data.n_valid :]
    for name in config.models:
        train_s, setup_s, sample_s = time_batches(
            lambda name=name: _pipeline(
                name, config, max_epochs=1, validation_split=None, random_state=0
            ),
            X,
            y,
        )
        train_batches, valid_batches = _batches(name, data)
        for seed in config.seeds[name]:
            jobs.append(
                Job(
                    name=name,
                    seed=seed,
                    epochs=config.epochs[name],
                    done_epochs=checkpoints.epochs_done(name, seed),
                    train_batches=train_batches,
                    valid_batches=valid_batches,
                    n_valid=data.n_valid,
                    n_test=len(data.y_test),
                    train_batch_seconds=train_s,
                    setup_seconds=setup_s,
                    sample_seconds=sample_s,
                )
            )
    return Clock(jobs)


def _batches(name, data):
    """The training and validation batches of one epoch, as the estimator's
    own iterators make them."""
    from skfashion._registry import CLASSIFIERS

    net = CLASSIFIERS[name]()
    valid = slice(0, data.n_valid)
    train = slice(data.n_valid, None)
    return tuple(
        len(net.get_iterator(net.get_dataset(data.X[part], data.y[part]), training))
        for part, training in ((train, True), (valid, False))
    )


def _resume_note(checkpoints, config):
    """What --resume (or its absence) will do with the checkpoints kept."""
    if not config.resume and checkpoints.saved():
        raise ArgumentError(
            f"{checkpoints.folder} holds the checkpoints of an interrupted run "
            "with these settings: continue it with --resume, or delete that "
            "folder to start over"
        )
    if config.resume and not checkpoints.saved():
        others = checkpoints.other_runs()
        kept = (
            f"; {checkpoints.root} holds {len(others)} run(s) with other "
            "settings: " + "; ".join(_describe(o) for o in others)
            if others
            else ""
        )
        return f"Nothing to resume with these settings{kept}. Starting from the start."
    return None


def _describe(settings):
    """A run's settings as command-line options."""
    words = [f"--models {','.join(settings['models'])}"]
    epochs = ",".join(f"{m}={e}" for m, e in settings["epochs"].items())
    words.append(f"epochs {epochs}")
    if settings["quick"]:
        words.append("--quick")
    return " ".join(words)


def _train(job, data, config, bar, clock, interrupted, checkpoint_dir):
    """Fit one pipeline with the report's protocol and predict the test set."""
    from sklearn.metrics import accuracy_score
    from tqdm.contrib import DummyTqdmFile

    from ._report_progress import OverallProgress

    pipe = _pipeline(
        job.name,
        config,
        max_epochs=job.epochs,
        random_state=job.seed,
        validation_split=slice(0, data.n_valid),
        checkpoint_dir=checkpoint_dir,
        verbose=1,
        callbacks=[("overall_progress", OverallProgress(bar, clock))],
    )
    start = time.perf_counter()
    # skorch's epoch table goes through tqdm, so it does not break the bars
    with contextlib.redirect_stdout(DummyTqdmFile(sys.stdout)):
        pipe.fit(data.X, data.y)
    train_seconds = time.perf_counter() - start
    if interrupted():  # skorch stops training quietly on Ctrl-C
        raise _Interrupted
    # the saved model keeps no terminal objects: its callbacks were display only
    pipe[-1].set_params(callbacks=None).initialize_callbacks()
    start = time.perf_counter()
    proba = pipe.predict_proba(data.X_test)
    predict_seconds = time.perf_counter() - start
    y_pred = pipe.classes_[proba.argmax(axis=1)]
    history = pipe[-1].history_
    valid = slice(0, data.n_valid)
    numbers = {
        "random_state": job.seed,
        "test_accuracy": float(accuracy_score(data.y_test, y_pred)),
        **calibration(
            pipe, proba, data.X[valid], data.y[valid], data.X_test, data.y_test
        ),
        "valid_accuracy": float(history[-1, "valid_acc"]),
        "train_accuracy": float(history[-1, "train_acc"]),
        "epochs": len(history),
        "train_seconds": round(train_seconds, 2),
        "predict_seconds": round(predict_seconds, 2),
    }
    return Fit(job.name, job.seed, pipe, y_pred, proba, numbers)


def calibration(pipe, proba, X_valid, y_valid, X_test, y_test):
    """The test set's expected calibration error (15 bins), as predicted and
    after temperature scaling fitted on the validation images (scikit-learn's
    ``CalibratedClassifierCV(FrozenEstimator(pipe), method="temperature")``)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    from skfashion import expected_calibration_error

    scaled = CalibratedClassifierCV(FrozenEstimator(pipe), method="temperature")
    scaled.fit(X_valid, y_valid)
    beta = scaled.calibrated_classifiers_[0].calibrators[0].beta_
    classes = pipe.classes_
    return {
        "ece": expected_calibration_error(y_test, proba, classes=classes),
        "ece_temperature": expected_calibration_error(
            y_test, scaled.predict_proba(X_test), classes=classes
        ),
        "temperature": round(float(1 / beta), 4),
    }


def _evaluate(fits, data):
    """The numbers of one model's fits: accuracy over the seeds, and the
    first seed's confusion matrix, recall and most confused pairs."""
    from sklearn.metrics import confusion_matrix

    from skfashion import CLASS_NAMES

    runs = [f.numbers for f in fits]
    cm = confusion_matrix(data.y_test, fits[0].y_pred, labels=range(len(CLASS_NAMES)))
    return {
        "summary": seed_summary([r["test_accuracy"] for r in runs]),
        "valid_accuracy": float(np.mean([r["valid_accuracy"] for r in runs])),
        "train_seconds": float(np.mean([r["train_seconds"] for r in runs])),
        "predict_seconds": float(np.mean([r["predict_seconds"] for r in runs])),
        "ece": float(np.mean([r["ece"] for r in runs])),
        "ece_temperature": float(np.mean([r["ece_temperature"] for r in runs])),
        "runs": runs,
        "confusion_matrix": cm.tolist(),
        "recall": per_class_recall(cm).tolist(),
        "most_confused": confused_pairs(cm, CLASS_NAMES),
    }


def _environment(estimator):
    import sklearn
    import skorch
    import torch

    import skfashion
    from skfashion._hardware import cpu_name

    return {
        "skfashion": skfashion.__version__,
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
        "device": estimator.device_,
        "precision": estimator.precision_,
        "cpu": cpu_name(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def _announce(clock, config, write):
    """The expected duration, before training; what helps when it is long."""
    from skfashion._hardware import cpu_name, resolve_device

    seconds = {
        m: sum(j.estimate for j in clock.jobs if j.name == m) for m in config.models
    }
    per_model = ", ".join(f"{m} {format_duration(s)}" for m, s in seconds.items())
    total = clock.estimate
    write(
        f"Expected duration: about {format_duration(total)} ({per_model}), timed "
        "on the first batches of each model on this machine."
    )
    device = resolve_device(config.device)
    if total > LONG_RUN and device == "cpu":
        write(
            f"That is long on this CPU ({cpu_name()}, {os.cpu_count()} cores): a GPU "
            "(--device cuda), --models mlp or --quick is faster. Continuing."
        )


# -------------------------------------------------------------------- run
def run(args, parser):
    try:
        config = config_from_args(args)
        checkpoints = RunCheckpoints(config.out, config.settings())
        note = _resume_note(checkpoints, config)
        work = _make_workdir(config.out)
    except ArgumentError as exc:
        print(f"skfashion report: error: {exc}", file=sys.stderr)
        return 2
    if note:
        print(note)
    started = time.perf_counter()
    with interruptible() as stop:
        try:
            checkpoints.open()
            _run(config, work, checkpoints, stop, started)
            _move_into_place(work, config.out)
            checkpoints.remove()
        except (KeyboardInterrupt, _Interrupted):
            print(_interrupted(stop, work, config.out, checkpoints), file=sys.stderr)
            return stop.exit_code
        except OSError as exc:
            shutil.rmtree(work, ignore_errors=True)
            print(f"skfashion report: error: {exc}", file=sys.stderr)
            return 1
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            checkpoints.tidy()
    total = time.perf_counter() - started
    print(f"Report written to {config.out}/report.md in {format_duration(total)}.")
    return 0


def _interrupted(stop, work, out, checkpoints):
    """Keep what finished; say what was kept and how to continue."""
    kept = _keep_partial(work, out)
    where = f"; finished models kept in {kept}" if kept else ""
    if checkpoints.saved():
        where += f"; run again with --resume to continue from {checkpoints.folder}"
    how = f" ({stop.name})" if stop.name not in (None, "SIGINT") else ""
    return f"skfashion report: interrupted{how}: {out} was not written{where}"


def _run(config, work, checkpoints, stop, started):
    """Load, time, train and evaluate every model, then write the report
    into ``work``."""
    from tqdm.auto import tqdm

    data = _load(config)
    clock = _plan(config, data, checkpoints)
    _announce(clock, config, tqdm.write)
    fits, evaluations = _train_all(config, data, clock, checkpoints, stop, work)
    comparisons = [
        comparison(a, b, MODELS, data.y_test, fits[a][0].y_pred, fits[b][0].y_pred)
        for a, b in itertools.combinations(config.models, 2)
    ]
    write_recall_figure(work / "recall.png", MODELS, evaluations)
    total = time.perf_counter() - started
    write_report(
        work,
        {
            "titles": MODELS,
            "evaluations": evaluations,
            "comparisons": comparisons,
            "environment": _environment(fits[config.models[0]][0].pipe[-1]),
            "time": {
                "estimated_seconds": round(clock.estimate, 1),
                "actual_seconds": round(total, 1),
                "estimated": format_duration(clock.estimate),
                "actual": format_duration(total),
            },
            "protocol": {
                "n_train": len(data.y) - data.n_valid,
                "n_valid": data.n_valid,
                "n_test": len(data.y_test),
                "epochs": dict(config.epochs),
                "random_states": {m: list(s) for m, s in config.seeds.items()},
                "quick": config.quick,
            },
        },
    )


def _train_all(config, data, clock, checkpoints, stop, work):
    """Every fit of the clock's plan, under one progress bar; each model's
    files are written as soon as its last seed is done."""
    from tqdm.auto import tqdm

    fits, evaluations = {}, {}
    bar_format = "{l_bar}{bar}| {n_fmt}/{total_fmt} batches [{elapsed}{postfix}]"
    with tqdm(
        total=clock.total_batches,
        initial=clock.batches_done_before,
        desc="overall",
        bar_format=bar_format,
    ) as bar:
        for i, job in enumerate(clock.jobs):
            clock.start(i)
            folder = checkpoints.job_folder(job.name, job.seed)
            fit = _train(job, data, config, bar, clock, lambda: bool(stop), folder)
            fits.setdefault(job.name, []).append(fit)
            if len(fits[job.name]) == len(config.seeds[job.name]):  # model done
                ev = evaluations[job.name] = _evaluate(fits[job.name], data)
                write_model_files(
                    work / job.name,
                    MODELS[job.name],
                    fits[job.name],
                    ev,
                    data,
                    onnx=config.onnx,
                )
                tqdm.write(_one_line(job.name, ev))
    return fits, evaluations


def _one_line(name, ev):
    s = ev["summary"]
    spread = f" ± {100 * s['std']:.2f}" if s["n"] > 1 else ""
    return (
        f"{name}: test accuracy {100 * s['mean']:.2f} %{spread} over {s['n']} "
        f"seed{'s' * (s['n'] != 1)}, validation {100 * ev['valid_accuracy']:.2f} %, "
        f"{ev['train_seconds']:.0f} s per fit"
    )


def _make_workdir(out):
    """A temporary folder beside ``out``: moved into place when complete."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        work.chmod(0o777 & ~_umask())  # mkdtemp's 0o700: as mkdir would make it
        return work
    except OSError as exc:
        raise ArgumentError(f"--out {out} is not writable ({exc.strerror})") from None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _move_into_place(work, out):
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(work, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, out)


def _keep_partial(work, out):
    """Keep the models that finished, under a name that can't pass for a report."""
    if not any(work.iterdir()):
        shutil.rmtree(work, ignore_errors=True)
        return None
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (work / "INCOMPLETE").write_text(
        "This run of skfashion report was interrupted: only the models in "
        "this folder finished. It is not a report.\n"
    )
    os.replace(work, partial)
    return partial
