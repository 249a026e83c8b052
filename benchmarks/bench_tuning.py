"""Tuning FashionMLP: exhaustive grid vs successive halving vs a pruned search.

The same 24-candidate grid of ``FashionMLP`` (``GRID``: learning rate, batch
size, L2, dropout; 10 epochs, no internal validation split), 3-fold CV
(``StratifiedKFold(3)``, unshuffled: the same folds for all three) on all
60,000 training images, searched three ways on one machine, one after the
other:

- ``grid``: scikit-learn's ``GridSearchCV``: every candidate, every fold, all
  10 epochs (720 fold-epochs);
- ``halving``: scikit-learn's ``HalvingGridSearchCV`` with ``max_epochs`` as
  the resource (factor 3, from 1 epoch): each round retrains its survivors
  from scratch;
- ``pruned``: what ``skfashion tune`` runs: Optuna's ``GridSampler`` over the
  same grid and its ``SuccessiveHalvingPruner`` (``min_resource=1``,
  ``reduction_factor=4``), each trial trained one epoch at a time by
  ``partial_fit`` (``skfashion.tuning.PrunedCV``), so a pruned trial has
  trained only its first epochs and a survivor continues where it was.

For each: wall seconds (search and refit), fold-epochs trained, the best
parameters, their CV score, and the refit best model's test accuracy (the
10,000 test images); for ``pruned`` also the exhaustive grid's CV score of
the candidate it picked. ``--quick``: 3,000 images, 3 epochs. Each run is
written to the JSON when it ends (merged with the runs already there for the
same grid and CPU), so the three may be run separately:
``python -m benchmarks.bench_tuning [--full] [--out DIR] [RUN ...]``.
"""

import argparse
import itertools
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    StratifiedKFold,
)

from skfashion import FashionMLP, fetch_fashion_mnist
from skfashion.tuning import PrunedCV, fold_epochs
from skfashion.utils import cpu_name

from ._common import cores as _cores
from ._common import machine

#: it writes tuning.json itself, in the form the docs read
OWN_JSON = True
RUNS = ("pruned", "halving", "grid")
GRID = {
    "lr": [1e-4, 3e-4, 1e-3],
    "batch_size": [32, 128],
    "l2": [1e-4, 0.0],
    "dropout": [0.0, 0.2],
}
FOLDS = 3
SIZES = {False: (60000, 10), True: (3000, 3)}  # quick -> (images, epochs)


def _data(quick):
    images, _ = SIZES[quick]
    train = fetch_fashion_mnist(subset="train")
    test = fetch_fashion_mnist(subset="test")
    X = (train.data[:images] / 255).astype(np.float32)
    X_test = (test.data / 255).astype(np.float32)
    return X, train.target[:images], X_test, test.target


def _estimator(quick):
    return FashionMLP(max_epochs=SIZES[quick][1], validation_split=None, random_state=0)


def _key(params):
    return json.dumps({k: params[k] for k in sorted(GRID)})


def _grid(X, y, quick):
    search = GridSearchCV(_estimator(quick), GRID, cv=StratifiedKFold(FOLDS))
    search.fit(X, y)
    epochs = FOLDS * len(search.cv_results_["params"]) * SIZES[quick][1]
    scores = {
        _key(p): float(s)
        for p, s in zip(
            search.cv_results_["params"],
            search.cv_results_["mean_test_score"],
            strict=True,
        )
    }
    return search, epochs, {"cv_scores": scores}


def _halving(X, y, quick):
    search = HalvingGridSearchCV(
        _estimator(quick),
        GRID,
        resource="max_epochs",
        min_resources=1,
        max_resources=SIZES[quick][1],
        factor=3,
        cv=StratifiedKFold(FOLDS),
        random_state=0,
    )
    search.fit(X, y)
    epochs = FOLDS * int(np.sum(search.cv_results_["n_resources"]))
    extra = {"rounds": [int(n) for n in search.n_candidates_]}
    return search, epochs, extra


class _Pruned:
    """The pruned search's result, shaped like a scikit-learn search's."""

    def __init__(self, study, estimator, X, y):
        import optuna

        self.study = study
        self.best_params_ = dict(study.best_params)
        self.best_score_ = study.best_value
        self.best_estimator_ = estimator.set_params(**self.best_params_).fit(X, y)
        states = [t.state for t in study.trials]
        self.counts = {
            "complete": states.count(optuna.trial.TrialState.COMPLETE),
            "pruned": states.count(optuna.trial.TrialState.PRUNED),
        }


def _pruned(X, y, quick):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {name: {"choices": values} for name, values in GRID.items()}
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.GridSampler(GRID, seed=0),
        pruner=optuna.pruners.SuccessiveHalvingPruner(
            min_resource=1, reduction_factor=4
        ),
    )
    objective = PrunedCV(_estimator(quick), space, X, y, cv=StratifiedKFold(FOLDS))
    n_candidates = len(list(itertools.product(*GRID.values())))
    study.optimize(objective, n_trials=n_candidates)
    search = _Pruned(study, _estimator(quick), X, y)
    trials = [
        {
            "params": t.params,
            "state": t.state.name,
            "epochs": t.user_attrs.get("epochs"),
            "score": t.intermediate_values.get(t.user_attrs.get("epochs")),
            "curve": [t.intermediate_values[e] for e in sorted(t.intermediate_values)],
        }
        for t in study.trials
    ]
    return search, fold_epochs(study.trials), {**search.counts, "trials": trials}


def run_one(name, quick=True):
    """Run one of the searches; return its JSON record."""
    X, y, X_test, y_test = _data(quick)
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        start = time.perf_counter()
        search, epochs, extra = {"grid": _grid, "halving": _halving, "pruned": _pruned}[
            name
        ](X, y, quick)
        seconds = time.perf_counter() - start
    best = {
        k: v.item() if hasattr(v, "item") else v for k, v in search.best_params_.items()
    }
    return {
        "seconds": round(seconds, 1),
        "fold_epochs": int(epochs),
        "best_params": best,
        "best_score": round(float(search.best_score_), 5),
        "test_accuracy": round(float(search.best_estimator_.score(X_test, y_test)), 5),
        **extra,
    }


def record(quick):
    """What the runs share: the grid, the data and the machine."""
    images, epochs = SIZES[quick]
    return {
        "cpu": cpu_name(),
        "machine": machine(),
        "grid": {
            "estimator": f"FashionMLP(max_epochs={epochs}, validation_split=None, "
            "random_state=0)",
            "params": GRID,
            "candidates": len(list(itertools.product(*GRID.values()))),
            "cv": f"StratifiedKFold({FOLDS}) (unshuffled)",
            "images": images,
            "quick": quick,
        },
        "runs": {},
    }


def merge(path, quick, name, result):
    """Add one run's result to the JSON at ``path`` (started afresh if it
    holds another grid or CPU); return the whole record."""
    new = record(quick)
    path = Path(path)
    old = json.loads(path.read_text()) if path.is_file() else None
    if old and old.get("grid") == new["grid"] and old.get("cpu") == new["cpu"]:
        new["runs"] = old["runs"]
    new["runs"][name] = result
    runs = new["runs"]
    if "grid" in runs:  # the exhaustive grid's score of the others' picks
        scores = runs["grid"]["cv_scores"]
        for other in ("pruned", "halving"):
            if other in runs:
                params = {k: runs[other]["best_params"][k] for k in GRID}
                runs[other]["grid_cv_score_of_best"] = scores.get(_key(params))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(new, indent=2))
    path.with_suffix(".rst").write_text(rst_table(new))
    return new


def rst_table(full_record):
    """The docs' table of a record (``tuning.rst`` beside the JSON)."""
    runs = full_record["runs"]
    grid = runs.get("grid", {})
    names = {
        "grid": "GridSearchCV (exhaustive)",
        "halving": "HalvingGridSearchCV (max_epochs)",
        "pruned": "GridSampler + SuccessiveHalvingPruner",
    }
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - search",
        "     - seconds",
        "     - fold-epochs",
        "     - best CV accuracy",
        "     - test accuracy (refit)",
        "     - best parameters",
    ]
    for name in ("grid", "halving", "pruned"):
        if name not in runs:
            continue
        r = runs[name]
        ratio = (
            f" ({r['fold_epochs'] / grid['fold_epochs']:.2f}×)"
            if grid and name != "grid"
            else ""
        )
        time_ratio = (
            f" ({r['seconds'] / grid['seconds']:.2f}×)"
            if grid and name != "grid"
            else ""
        )
        lines += [
            f"   * - {names[name]}",
            f"     - {r['seconds']:.0f}{time_ratio}",
            f"     - {r['fold_epochs']}{ratio}",
            f"     - {100 * r['best_score']:.2f} %",
            f"     - {100 * r['test_accuracy']:.2f} %",
            "     - " + ", ".join(f"``{k}={v}``" for k, v in r["best_params"].items()),
        ]
    cpu = full_record["cpu"]
    cores = _cores(full_record["machine"])
    lines += ["", f"Measured on {cpu} ({cores} cores)."]
    for name in ("pruned", "halving"):
        score = runs.get(name, {}).get("grid_cv_score_of_best")
        if score is not None:
            lines.append(
                f"The exhaustive grid scored the {name} search's pick at "
                f"{100 * score:.2f} % (its best: {100 * grid['best_score']:.2f} %)."
            )
    lines.append("")
    return "\n".join(lines)


def rows(full_record):
    out = []
    for name, r in full_record["runs"].items():
        out.append(
            {
                "search": name,
                "seconds": r["seconds"],
                "fold_epochs": r["fold_epochs"],
                "best_score": r["best_score"],
                "test_accuracy": r["test_accuracy"],
                "best_params": json.dumps(r["best_params"]),
            }
        )
    return out


def run(quick=True, out="benchmarks/results", names=RUNS):
    full_record = None
    for name in names:
        full_record = merge(
            Path(out) / "tuning.json", quick, name, run_one(name, quick)
        )
        print(f"  {name}: {json.dumps(full_record['runs'][name])[:300]}", flush=True)
    return rows(full_record)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_tuning")
    parser.add_argument("--full", action="store_true", help="all 60,000 images")
    parser.add_argument("--out", default="benchmarks/results", help="JSON folder")
    parser.add_argument("runs", nargs="*", choices=[[]] + list(RUNS), default=[])
    args = parser.parse_args(argv)
    for row in run(quick=not args.full, out=args.out, names=args.runs or RUNS):
        print(row)


if __name__ == "__main__":
    main()
