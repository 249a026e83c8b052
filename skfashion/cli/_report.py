"""``skfashion report``: re-run the original report's experiment in one command.

Built only from skfashion's public API and scikit-learn, so it doubles as the
reference example of how to use the package.
"""

import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HELP = "reproduce the original report: train, evaluate, write a report"

MODELS = {
    "mlp": "Dense network (FashionMLP)",
    "cnn": "Convolutional network (FashionCNN)",
}
# The original report's test accuracies.
ORIGINAL = {"mlp": 0.8913, "cnn": 0.9193}
N_VALID = 5000  # the original: the first 5,000 training images validate
QUICK = {"n_train": 600, "n_valid": 100, "n_test": 300}


class ArgumentError(Exception):
    """A bad command-line value: one line on stderr, exit code 2."""


def add_parser(sub):
    p = sub.add_parser("report", help=HELP, description=HELP + ".")
    p.add_argument(
        "--models",
        default="mlp,cnn",
        help="comma-separated models to run: mlp, cnn (default: mlp,cnn)",
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="epochs (default: 10; 1 with --quick)"
    )
    p.add_argument("--out", default="report", help="output folder (default: report)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "float32", "bfloat16"],
        help="training precision (default: auto)",
    )
    p.add_argument(
        "--random-state", type=int, default=0, help="seed of the first run (default: 0)"
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="repeat each model with this many seeds; report mean and std",
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
    p.add_argument("--data-home", metavar="DIR", help="where to look for the data")
    p.set_defaults(run=run)
    return p


def _check_args(args):
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ArgumentError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(MODELS)}"
        )
    if args.epochs is None:
        args.epochs = 1 if args.quick else 10
    if args.epochs < 1:
        raise ArgumentError(f"--epochs must be at least 1, got {args.epochs}")
    if args.seeds < 1:
        raise ArgumentError(f"--seeds must be at least 1, got {args.seeds}")
    if args.device not in ("auto", "cpu") and not args.device.startswith("cuda"):
        raise ArgumentError(f"--device must be auto, cpu or cuda, got {args.device}")
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ArgumentError("--device cuda: no CUDA GPU is available")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArgumentError(f"--out {out} exists and is not a folder")
    return list(dict.fromkeys(models)), out


def _make_workdir(out):
    """A temporary folder beside ``out``: moved into place when complete."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise ArgumentError(f"--out {out} is not writable ({exc.strerror})") from None


def _move_into_place(work, out):
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(work, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, out)


def _environment(estimator):
    import sklearn
    import skorch
    import torch

    import skfashion
    from skfashion._hardware import cpu_name

    cpu = cpu_name()
    return {
        "skfashion": skfashion.__version__,
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
        "device": estimator.device_,
        "precision": estimator.precision_,
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def _load(args):
    from skfashion import fetch_fashion_mnist

    train = fetch_fashion_mnist(subset="train", data_home=args.data_home)
    test = fetch_fashion_mnist(subset="test", data_home=args.data_home)
    X, y, X_test, y_test = train.data, train.target, test.data, test.target
    n_valid = N_VALID
    if args.quick:
        X, y = X[: QUICK["n_train"]], y[: QUICK["n_train"]]
        X_test, y_test = X_test[: QUICK["n_test"]], y_test[: QUICK["n_test"]]
        n_valid = QUICK["n_valid"]
    return X, y, X_test, y_test, n_valid


class _Interrupted(Exception):
    pass


def _overall_progress_class():
    from skorch.callbacks import Callback

    class OverallProgress(Callback):
        """Advance the run's overall progress bar after every epoch."""

        def __init__(self, bar=None):
            self.bar = bar

        def on_epoch_end(self, net, **kwargs):
            if self.bar is not None:
                self.bar.update(1)

        def __getstate__(self):  # the saved model keeps no terminal state
            return {**self.__dict__, "bar": None}

    OverallProgress.__qualname__ = OverallProgress.__name__ = "_OverallProgress"
    return OverallProgress


_OverallProgress = _overall_progress_class()


def _checkpoint_dir(out):
    return out.with_name(out.name + ".checkpoints")


def _train_one(name, seed, data, args, bar, interrupted):
    """Fit one pipeline with the report's protocol; return it and its numbers."""
    from sklearn.metrics import accuracy_score
    from sklearn.pipeline import make_pipeline
    from tqdm.contrib import DummyTqdmFile

    from skfashion import PixelScaler
    from skfashion._registry import CLASSIFIERS

    X, y, X_test, y_test, n_valid = data
    estimator = CLASSIFIERS[name](
        max_epochs=args.epochs,
        device=args.device,
        precision=args.precision,
        random_state=seed,
        validation_split=slice(0, n_valid),
        checkpoint_dir=_checkpoint_dir(Path(args.out)),
        verbose=1,
        callbacks=[("overall_progress", _OverallProgress(bar))],
    )
    pipe = make_pipeline(PixelScaler(), estimator)
    start = time.perf_counter()
    # skorch's epoch table goes through tqdm, so it does not break the bars
    with contextlib.redirect_stdout(DummyTqdmFile(sys.stdout)):
        pipe.fit(X, y)
    train_seconds = time.perf_counter() - start
    if interrupted():  # skorch stops training quietly on Ctrl-C
        raise _Interrupted
    # the saved model keeps no terminal objects: its callbacks were display only
    estimator.set_params(callbacks=None).initialize_callbacks()
    start = time.perf_counter()
    y_pred = pipe.predict(X_test)
    predict_seconds = time.perf_counter() - start
    history = estimator.history_
    numbers = {
        "random_state": seed,
        "test_accuracy": float(accuracy_score(y_test, y_pred)),
        "valid_accuracy": float(history[-1, "valid_acc"]),
        "train_accuracy": float(history[-1, "train_acc"]),
        "epochs": len(history),
        "train_seconds": round(train_seconds, 2),
        "predict_seconds": round(predict_seconds, 2),
    }
    return pipe, y_pred, numbers


def _history_frame(pipe, seed):
    import pandas as pd

    keys = ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "dur"]
    rows = [{k: record.get(k) for k in keys} for record in pipe[-1].history_]
    frame = pd.DataFrame(rows, columns=keys)
    frame.insert(0, "random_state", seed)
    return frame


def _confused_pairs(cm, names, top=3):
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    return [
        {
            "true": names[i],
            "predicted": names[j],
            "count": int(off[i, j]),
            "reverse_count": int(off[j, i]),
        }
        for i, j in (np.unravel_index(k, off.shape) for k in order)
    ]


def _write_model_files(folder, name, runs, y_test):
    """Files of one model: history, curves, confusion matrix, report, model."""
    import joblib
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from sklearn.metrics import classification_report, confusion_matrix

    from skfashion import CLASS_NAMES, plot_confusion_matrix, plot_history, save_model

    folder.mkdir()
    pipe, y_pred, first = runs[0]
    pd.concat([_history_frame(p, n["random_state"]) for p, _, n in runs]).to_csv(
        folder / "history.csv", index=False
    )
    axes = plot_history(pipe)
    axes[0].figure.suptitle(f"{MODELS[name]}, random_state={first['random_state']}")
    axes[0].figure.savefig(folder / "curves.png", dpi=110)
    plt.close(axes[0].figure)

    labels = np.arange(len(CLASS_NAMES))
    cm = confusion_matrix(y_test, y_pred, labels=labels)
    pd.DataFrame(cm, index=CLASS_NAMES, columns=CLASS_NAMES).to_csv(
        folder / "confusion_matrix.csv", index_label="true \\ predicted"
    )
    display = plot_confusion_matrix(y_test, y_pred, labels=labels)
    display.ax_.set_title(f"{MODELS[name]}: test set confusion matrix")
    display.figure_.savefig(folder / "confusion_matrix.png", dpi=110)
    plt.close(display.figure_)

    kwargs = {"labels": labels, "target_names": list(CLASS_NAMES), "digits": 4}
    (folder / "classification_report.txt").write_text(
        classification_report(y_test, y_pred, zero_division=0, **kwargs)
    )
    (folder / "classification_report.json").write_text(
        json.dumps(
            classification_report(
                y_test, y_pred, output_dict=True, zero_division=0, **kwargs
            ),
            indent=2,
        )
    )
    joblib.dump(pipe, folder / "model.pkl")
    save_model(pipe, folder / "model.safetensors")
    return cm


def _summary(name, runs, cm):
    from skfashion import CLASS_NAMES

    per_seed = [n for _, _, n in runs]
    acc = np.array([n["test_accuracy"] for n in per_seed])
    return {
        "model": MODELS[name],
        "test_accuracy": float(acc.mean()),
        "test_accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
        "valid_accuracy": float(np.mean([n["valid_accuracy"] for n in per_seed])),
        "train_seconds": float(np.mean([n["train_seconds"] for n in per_seed])),
        "predict_seconds": float(np.mean([n["predict_seconds"] for n in per_seed])),
        "original_test_accuracy": ORIGINAL[name],
        "seeds": len(per_seed),
        "runs": per_seed,
        "most_confused": _confused_pairs(cm, CLASS_NAMES),
    }


def _pct(x):
    return f"{100 * x:.2f} %"


def _report_md(metrics, args, n_train, n_valid, n_test, total_seconds):
    epochs = args.epochs
    env = metrics["environment"]
    models = [m for m in MODELS if m in metrics]
    lines = [
        "# Fashion-MNIST: the original report, reproduced with skfashion",
        "",
        "Re-runs the experiment of *Neural Networks for Image Recognition: "
        "Fashioning the Right Architecture* (2020) with skfashion's `FashionMLP` "
        "and `FashionCNN`, whose defaults are the original's Keras models.",
        "",
        f"Protocol: the first {n_valid:,} training images validate, the other "
        f"{n_train - n_valid:,} train; pixels / 255; {epochs} epochs; "
        f"the {n_test:,} test images are scored once at the end."
        + (
            " **Quick mode: a smoke test on a few hundred images, not a result.**"
            if args.quick
            else ""
        ),
        "",
        "## Accuracy",
        "",
        "| model | test accuracy (ours) | original | validation (ours) | "
        "training time | seeds |",
        "|---|---|---|---|---|---|",
    ]
    for m in models:
        r = metrics[m]
        acc = _pct(r["test_accuracy"])
        if r["seeds"] > 1:
            acc += f" ± {100 * r['test_accuracy_std']:.2f}"
        lines.append(
            f"| {r['model']} | {acc} | {_pct(r['original_test_accuracy'])} | "
            f"{_pct(r['valid_accuracy'])} | {r['train_seconds']:.0f} s | {r['seeds']} |"
        )
    lines += [
        "",
        "Accuracies are means over the seeds (± sample standard deviation); the "
        "figures and confusion matrices are of the first seed's model "
        f"(random_state={args.random_state}).",
        "",
    ]
    for m in models:
        r = metrics[m]
        lines += [
            f"## {r['model']}",
            "",
            f"![training curves]({m}/curves.png)",
            "",
            f"![confusion matrix]({m}/confusion_matrix.png)",
            "",
            f"Most confused classes (true → predicted, of {n_test:,} test images):",
            "",
        ]
        for p in r["most_confused"]:
            lines.append(
                f"- {p['true']} → {p['predicted']}: {p['count']} "
                f"(and {p['reverse_count']} the other way)"
            )
        lines += [
            "",
            f"Per-class precision and recall: [{m}/classification_report.txt]"
            f"({m}/classification_report.txt).",
            "",
        ]
    lines += ["## Discussion", ""]
    if "mlp" in metrics:
        lines.append(
            "The original's dense network confused T-shirt/top ↔ Shirt 103 and 96 "
            "times and Pullover → Shirt 64 times; our dense network's three most "
            "confused pairs are listed above."
        )
    if "mlp" in metrics and "cnn" in metrics:
        lines.append("")
        lines.append(_differences(metrics))
    lines += [
        "",
        "The original's CNN confusion matrix has row totals 980, 1135, 1032, … — "
        "those of the MNIST *digits* test set, not Fashion-MNIST's 1,000 per "
        "class — so only its accuracy (91.93 %) is comparable; the matrix above "
        "is the real Fashion-MNIST one.",
        "",
        "## Environment",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in env.items()]
    lines += [
        f"| total wall time | {total_seconds:.0f} s |",
        "",
        "Made by `skfashion report` — files: `metrics.json`, and per model "
        "`history.csv`, `curves.png`, `confusion_matrix.csv`/`.png`, "
        "`classification_report.txt`/`.json`, `model.pkl` and `model.safetensors` "
        "(the same model without pickle: `skfashion.load_model`).",
        "",
    ]
    return "\n".join(lines)


def _differences(metrics):
    from skfashion import CLASS_NAMES

    recall = {}
    for m in ("mlp", "cnn"):
        cm = np.array(metrics[m]["_cm"])
        recall[m] = np.diag(cm) / cm.sum(axis=1)
    gain = recall["cnn"] - recall["mlp"]
    order = np.argsort(gain)[::-1]
    best = ", ".join(
        f"{CLASS_NAMES[i]} ({100 * recall['mlp'][i]:.1f} → "
        f"{100 * recall['cnn'][i]:.1f} %)"
        for i in order[:3]
    )
    worst = order[-1]
    return (
        f"Where the two models differ: the CNN's recall improves most on {best}; "
        f"its smallest gain (or largest loss) is on {CLASS_NAMES[worst]} "
        f"({100 * recall['mlp'][worst]:.1f} → {100 * recall['cnn'][worst]:.1f} %)."
    )


def run(args, parser):
    try:
        models, out = _check_args(args)
        work = _make_workdir(out)
    except ArgumentError as exc:
        print(f"skfashion report: error: {exc}", file=sys.stderr)
        return 2

    from tqdm.auto import tqdm

    state = {"interrupted": False}

    def on_sigint(signum, frame):
        state["interrupted"] = True
        raise KeyboardInterrupt

    checkpoints = _checkpoint_dir(out)
    if not args.resume:
        shutil.rmtree(checkpoints, ignore_errors=True)
    previous = signal.signal(signal.SIGINT, on_sigint)
    started = time.perf_counter()
    try:
        data = _load(args)
        X, y, X_test, y_test, n_valid = data
        epochs = args.epochs
        seeds = [args.random_state + i for i in range(args.seeds)]
        metrics = {}
        with tqdm(
            total=len(models) * len(seeds) * epochs, desc="overall", unit="epoch"
        ) as bar:
            for name in models:
                runs = [
                    _train_one(name, s, data, args, bar, lambda: state["interrupted"])
                    for s in seeds
                ]
                cm = _write_model_files(work / name, name, runs, y_test)
                metrics[name] = _summary(name, runs, cm)
                metrics[name]["_cm"] = cm.tolist()
                r = metrics[name]
                tqdm.write(
                    f"{name}: test accuracy {_pct(r['test_accuracy'])}"
                    + (
                        f" ± {100 * r['test_accuracy_std']:.2f}"
                        if len(seeds) > 1
                        else ""
                    )
                    + f" (original {_pct(ORIGINAL[name])}), validation "
                    f"{_pct(r['valid_accuracy'])}, {r['train_seconds']:.0f} s per fit"
                )
        metrics["environment"] = _environment(runs[0][0][-1])
        total = time.perf_counter() - started
        markdown = _report_md(metrics, args, len(y), n_valid, len(y_test), total)
        for name in models:
            del metrics[name]["_cm"]
        metrics["environment"]["total_seconds"] = round(total, 1)
        metrics["protocol"] = {
            "n_train": len(y) - n_valid,
            "n_valid": n_valid,
            "n_test": len(y_test),
            "epochs": epochs,
            "quick": args.quick,
        }
        (work / "metrics.json").write_text(json.dumps(metrics, indent=2))
        (work / "report.md").write_text(markdown)
        _move_into_place(work, out)
        shutil.rmtree(checkpoints, ignore_errors=True)
    except (KeyboardInterrupt, _Interrupted):
        kept = _keep_partial(work, out)
        where = f"; finished models kept in {kept}" if kept else ""
        if checkpoints.is_dir() and any(checkpoints.iterdir()):
            where += f"; run again with --resume to continue from {checkpoints}"
        print(
            f"skfashion report: interrupted: {out} was not written{where}",
            file=sys.stderr,
        )
        return 130
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        print(f"skfashion report: error: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        with contextlib.suppress(OSError):
            checkpoints.rmdir()  # only if empty
    print(f"Report written to {out}/report.md in {total:.0f} s.")
    return 0


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
