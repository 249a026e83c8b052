"""FastFashionCNN: accuracy against training time, its ablation, and the
time-accuracy (Pareto) front of skfashion's three models.

Every fit trains on all 60,000 training images (no validation split) and
scores the 10,000 test images once; the time is the training's wall time on
this machine. Parts (``python -m benchmarks.bench_fast [--full] [--out DIR]
[PART ...]``; ``python -m benchmarks --full fast`` runs them all):

- ``default``: ``FastFashionCNN()`` with 3 seeds (goal: >= 95.0 % mean in
  <= 10 minutes of training on a 2-core Zen 4 or AMX CPU);
- ``previous``: ``FastFashionCNN()`` as the previous release trained it on
  this CPU (``previous_fast_params``: bfloat16 wherever the CPU has
  AVX512-BF16, glibc's malloc untouched), seed 0: the baseline of the goal
  "<= 0.7x the previous release's training time on the same CPU";
- ``ablation``: each ingredient of the recipe removed in turn (``ABLATION``),
  seed 0 (all of them first), then seeds 1 and 2 where seed 0 lands within
  0.3 points of the default's seed 0; test-time augmentation is measured on
  the default fits;
- ``epochs``: ``max_epochs`` in ``EPOCHS``, 3 seeds each (the default's
  16 epochs are the ``default`` part's fits);
- ``models``: ``FashionMLP`` and ``FashionCNN`` at a few epoch counts
  (``MODELS``, seed 0), the other points of the front.

Each fit is written to ``fast.json`` when it ends and a fit already there
(same part, parameters, seed and CPU) is not run again, so the parts -- hours
in all on a 2-core CPU -- can be run across sessions; ``fast.rst`` (the docs'
tables) and ``fast.png`` (the figure) are rewritten from the JSON each time.
``--quick``: 6,000 training images, 2 epochs, one seed: a smoke test.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from skfashion.utils import atomic_write, cpu_detail

from ._common import machine, previous_fast_params

#: it writes fast.json itself, in the form the docs read
OWN_JSON = True
PARTS = ("default", "previous", "ablation", "epochs", "models")
SEEDS = (0, 1, 2)
#: each ingredient and the parameters that remove it
ABLATION = {
    "patch whitening": {"whiten": False},
    "identity initialisation": {"identity_init": False},
    "BatchNorm shifts only, at 64x lr": {
        "frozen_norm_scale": False,
        "norm_bias_lr": 1.0,
    },
    "Nesterov SGD, triangular schedule": {  # the previous recipe's AdamW
        "optimizer": "AdamW",
        "lr": 4e-3,
        "norm_bias_lr": 1.0,
        "callbacks__lr_schedule": "OneCycle",
    },
    "label smoothing 0.2": {"label_smoothing": 0.0},
    "lookahead": {"callbacks__lookahead": None},
    "random flips (and mirror TTA)": {"flip": False, "tta": False},
    "random 1-pixel shifts": {"crop_padding": 0},
}
EPOCHS = (4, 6, 8, 10)  # and the defaults' 16
MODELS = {"mlp": (2, 5, 10), "cnn": (1, 2)}
CLOSE = 0.003  # ablation: 3 seeds where the difference is under 0.3 points


def _estimator(name, params):
    """The classifier of ``name`` with ``params`` (names in the JSON stand
    for the optimizer and schedule classes)."""
    import torch

    from skfashion.callbacks import OneCycle
    from skfashion.neural_network import CLASSIFIERS

    params = dict(params)
    if params.get("optimizer") == "AdamW":
        params["optimizer"] = torch.optim.AdamW
    if params.get("callbacks__lr_schedule") == "OneCycle":
        params["callbacks__lr_schedule"] = OneCycle()
    return CLASSIFIERS[name](**params)


def fit_one(name, params, seed, data):
    """Train one pipeline and score it: accuracy (with and, for
    FastFashionCNN, without test-time augmentation), ECE, seconds."""
    from sklearn.pipeline import make_pipeline

    from skfashion import PixelScaler, expected_calibration_error

    X, y, X_test, y_test = data
    clf = _estimator(name, {**params, "random_state": seed, "validation_split": None})
    pipe = make_pipeline(PixelScaler(), clf)
    start = time.perf_counter()
    pipe.fit(X, y)
    seconds = time.perf_counter() - start
    proba = pipe.predict_proba(X_test)
    record = {
        "test_acc": float(np.mean(clf.classes_[proba.argmax(1)] == y_test)),
        "train_s": round(seconds, 1),
        "epochs": len(clf.history_),
        "ece": expected_calibration_error(y_test, proba, classes=clf.classes_),
        "precision": clf.precision_,
    }
    if getattr(clf, "tta", False):
        clf.set_params(tta=False)
        record["test_acc_no_tta"] = float(pipe.score(X_test, y_test))
    return record


def _key(part, name, params, seed):
    return json.dumps([part, name, params, seed], sort_keys=True)


class Store:
    """fast.json: the fits done so far on this CPU, written after each."""

    def __init__(self, path, quick):
        self.path = Path(path)
        self.quick = quick
        record = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.cpu = machine()["cpu"]
        if record.get("cpu") != self.cpu or record.get("quick") != quick:
            record = {}  # another machine's, or the other size: start over
        self.record = {"cpu": self.cpu, "quick": quick, "fits": [], **record}
        self.record["machine"] = machine()
        self.record["cpu_detail"] = cpu_detail()

    def get(self, part, name, params, seed):
        key = _key(part, name, params, seed)
        return next((f for f in self.record["fits"] if f["key"] == key), None)

    def add(self, part, name, params, seed, result):
        fit = {
            "key": _key(part, name, params, seed),
            "part": part,
            "model": name,
            "params": params,
            "seed": seed,
            **result,
        }
        self.record["fits"].append(fit)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.path) as tmp:
            tmp.write_text(json.dumps(self.record, indent=1) + "\n")
        return fit


def _data(quick):
    from skfashion import fetch_fashion_mnist

    X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
    X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
    if quick:
        X, y = X[:6000], y[:6000]
    return X, y, X_test, y_test


def _plan(part, quick, store):
    """The fits of a part: (name, params, seeds); the ablation's seeds 1 and
    2 depend on seed 0's result."""
    seeds = (0,) if quick else SEEDS
    small = {"max_epochs": 2} if quick else {}
    if part == "default":
        yield "fast", small, seeds
    elif part == "previous":  # the baseline of this release's speed-up
        yield "fast", {**previous_fast_params(), **small}, (0,)
    elif part == "ablation":  # every ingredient's seed 0 first
        ablations = [{**params, **small} for params in ABLATION.values()]
        for params in ablations:
            yield "fast", params, (0,)
        base = store.get("default", "fast", small, 0)
        for params in ablations:
            first = store.get("ablation", "fast", params, 0)
            if not quick and first and base:
                if abs(first["test_acc"] - base["test_acc"]) < CLOSE:
                    yield "fast", params, SEEDS[1:]
    elif part == "epochs":
        for epochs in (2,) if quick else EPOCHS:
            yield "fast", {"max_epochs": epochs}, seeds
    elif part == "models":
        for name, counts in MODELS.items():
            for epochs in (1,) if quick else counts:
                yield name, {"max_epochs": epochs}, (0,)


def run(quick=True, out="benchmarks/results", parts=PARTS):
    store = Store(Path(out) / "fast.json", quick)
    data = None
    for part in parts:
        for name, params, seeds in _plan(part, quick, store):
            for seed in seeds:
                done = store.get(part, name, params, seed)
                if done is None:
                    data = data or _data(quick)
                    done = store.add(
                        part, name, params, seed, fit_one(name, params, seed, data)
                    )
                print(
                    f"  {part} {name} {params} seed {seed}: "
                    f"{100 * done['test_acc']:.2f} % in {done['train_s']} s",
                    flush=True,
                )
    from ._fast_docs import write_docs

    write_docs(store.record, Path(out))
    return summary(store.record)


def summary(record):
    """One row per configuration: mean and std over its seeds."""
    groups = {}
    for fit in record["fits"]:
        key = (fit["part"], fit["model"], json.dumps(fit["params"], sort_keys=True))
        groups.setdefault(key, []).append(fit)
    rows = []
    for (part, model, params), fits in groups.items():
        acc = [f["test_acc"] for f in fits]
        rows.append(
            {
                "part": part,
                "model": model,
                "params": params,
                "seeds": len(fits),
                "test_acc": round(float(np.mean(acc)), 4),
                "std": round(float(np.std(acc, ddof=1)), 4) if len(acc) > 1 else "",
                "train_s": round(float(np.mean([f["train_s"] for f in fits])), 1),
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_fast")
    parser.add_argument("--full", action="store_true", help="all 60,000 images")
    parser.add_argument("--out", default="benchmarks/results", help="JSON folder")
    parser.add_argument("parts", nargs="*", choices=[[]] + list(PARTS), default=[])
    args = parser.parse_args(argv)
    for row in run(quick=not args.full, out=args.out, parts=args.parts or PARTS):
        print(row)


if __name__ == "__main__":
    main()
