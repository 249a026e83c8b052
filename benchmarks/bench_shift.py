"""Under shift: ``FastFashionCNN()`` on regenerated Fashion-MNIST-C, and how
well each novelty score tells garments from what is not one.

Per seed: ``PixelScaler() -> FastFashionCNN(random_state=seed)`` trained on
the last 55,000 training images; a :class:`~skfashion.novelty.NoveltyDetector`
of each method fitted on the first 5,000, which the model never saw (the
report's validation images; its threshold on a fifth of them,
``accept=0.95``: images a model trained on score higher than new ones).
Measured on the 10,000 test images (in) against scikit-learn's digits laid
out as MNIST's (a proxy for MNIST), uniform and Gaussian noise, constant
images and the test images upside down (near out-of-distribution): AUROC and
FPR at 95 % TPR, and the share of test images accepted; accuracy on the
mixed Fashion-MNIST-C (one random corruption and severity per test image,
seed 0) per corruption, and the selective accuracy (the answers the model is
surest of) at 90 % and 80 % coverage. Each seed trains two variants
(``VARIANTS``): the default model (``plain``) and the same with
:class:`~skfashion.callbacks.RobustAugmentation` (``robust``). ``--quick``:
6,000 training images, 2 epochs, one seed.

Writes ``shift.json`` after each fit; a fit already there (same seed,
variant, size and CPU) is not run again, so the fits (about 20 minutes each
on a 2-core CPU) can be spread over sessions. ``python -m benchmarks
[--full] shift``.
"""

import json
import time
from pathlib import Path

from skfashion.utils import atomic_write, cpu_detail

from ._common import machine

OWN_JSON = True
SEEDS = (0, 1, 2)
#: each variant's extra FastFashionCNN parameters (a callback by its name)
VARIANTS = {"plain": {}, "robust": {"callbacks": ["RobustAugmentation"]}}


def _sets(test):
    from skfashion.datasets import corrupt_images, make_not_garments

    sets = {
        kind: make_not_garments(kind, n_samples=2000, random_state=0)
        for kind in ("digits", "uniform", "gaussian", "constant")
    }
    sets["upside_down"] = corrupt_images(test.data[:2000], "flip_up_down")[0]
    return sets


def fit_one(seed, quick, data, save=None, variant="plain"):
    from sklearn.pipeline import make_pipeline

    from skfashion import FastFashionCNN, PixelScaler, callbacks
    from skfashion.evaluation import detection_scores, selective_accuracy
    from skfashion.novelty import METHODS, NoveltyDetector

    train, test, shifted, sets = data
    n = 6000 if quick else len(train.data) - 5000
    params = {"random_state": seed, "verbose": 0}
    if quick:
        params["max_epochs"] = 2
    for key, value in VARIANTS[variant].items():
        params[key] = [getattr(callbacks, name)() for name in value]
    model = make_pipeline(PixelScaler(), FastFashionCNN(**params))
    start = time.perf_counter()
    model.fit(train.data[5000 : 5000 + n], train.target[5000 : 5000 + n])
    result = {
        "seed": seed,
        "variant": variant,
        "train_s": round(time.perf_counter() - start, 1),
    }
    proba = model.predict_proba(test.data)
    result["clean_acc"] = float((proba.argmax(axis=1) == test.target).mean())
    for coverage in (0.9, 0.8):
        result[f"selective_acc_{int(coverage * 100)}"] = selective_accuracy(
            test.target, proba, coverage=coverage, classes=model.classes_
        )
    right = model.predict(shifted.data) == shifted.target
    result["mixed_acc"] = float(right.mean())
    result["mixed_acc_by_corruption"] = {
        name: float(right[shifted.corruption == name].mean())
        for name in sorted(set(shifted.corruption))
    }
    if save:
        from skfashion import save_model

        save_model(model, save)
    result["detectors"] = {}
    fit_images, fit_labels = train.data[:5000], train.target[:5000]
    for method in METHODS:
        start = time.perf_counter()
        detector = NoveltyDetector(model, method=method, random_state=0).fit(
            fit_images, fit_labels
        )
        fit_s = time.perf_counter() - start
        inside = detector.score_samples(test.data)
        row = {
            "fit_s": round(fit_s, 1),
            "accepted_test": float((inside >= detector.offset_).mean()),
        }
        for name, X in sets.items():
            outside = detector.score_samples(X)
            row[name] = detection_scores(inside, outside)
            row[name]["accepted"] = float((outside >= detector.offset_).mean())
        result["detectors"][method] = row
    return result


def run(quick=True, out="benchmarks/results"):
    from skfashion import fetch_fashion_mnist
    from skfashion.datasets import make_fashion_mnist_c
    from skfashion.utils import cpu_name

    train = fetch_fashion_mnist(subset="train")
    test = fetch_fashion_mnist(subset="test")
    shifted = make_fashion_mnist_c(random_state=0)
    data = (train, test, shifted, _sets(test))
    record = {
        "cpu": cpu_name(),
        "cpu_detail": cpu_detail(),
        "machine": machine(),
        "quick": quick,
        "fits": [],
    }
    path = Path(out) / "shift.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _done(path, record)
    record["fits"] = list(done.values())
    rows = []
    for seed in SEEDS[:1] if quick else SEEDS:
        for variant in VARIANTS:
            fit = done.get((seed, variant))
            if fit is None:
                fit = fit_one(seed, quick, data, variant=variant)
                record["fits"].append(fit)
                with atomic_write(path) as tmp:
                    tmp.write_text(json.dumps(record, indent=2))
                path.with_suffix(".rst").write_text(rst_table(record))
            rows.extend(_rows(fit))
    return rows


def _mean(fits, key):
    values = [key(f) for f in fits]
    return sum(values) / len(values)


def rst_table(record):
    """The docs' tables of a record (``shift.rst`` beside the JSON): each
    variant's accuracies over its seeds, then the mixed accuracy per
    corruption."""
    by_variant = {
        v: [f for f in record["fits"] if f.get("variant", "plain") == v]
        for v in VARIANTS
    }
    by_variant = {v: fits for v, fits in by_variant.items() if fits}
    seeds = {
        v: ", ".join(str(f["seed"]) for f in fits) for v, fits in by_variant.items()
    }
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - variant (seeds)",
        "     - clean accuracy",
        "     - mixed Fashion-MNIST-C",
        "     - selective accuracy, 90 % coverage",
        "     - energy vs digits: AUROC / FPR@95",
        "     - best feature score vs digits: AUROC",
    ]
    for variant, fits in by_variant.items():

        def digits(method, what, fits=fits):
            return _mean(fits, lambda f: f["detectors"][method]["digits"][what])

        best = max(("mahalanobis", "vim"), key=lambda m: digits(m, "auroc"))
        lines += [
            f"   * - {variant} ({seeds[variant]})",
            f"     - {_mean(fits, lambda f: f['clean_acc']):.2%}",
            f"     - {_mean(fits, lambda f: f['mixed_acc']):.2%}",
            f"     - {_mean(fits, lambda f: f['selective_acc_90']):.2%}",
            f"     - {digits('energy', 'auroc'):.3f} / "
            f"{digits('energy', 'fpr_at_tpr'):.1%}",
            f"     - {digits(best, 'auroc'):.3f} ({best})",
        ]
    corruptions = sorted(next(iter(by_variant.values()))[0]["mixed_acc_by_corruption"])
    lines += [
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - corruption (mixed set)",
        *(f"     - {v}" for v in by_variant),
    ]
    for name in corruptions:
        lines.append(f"   * - ``{name}``")
        for fits in by_variant.values():
            acc = _mean(fits, lambda f, name=name: f["mixed_acc_by_corruption"][name])
            lines.append(f"     - {acc:.1%}")
    lines += [
        "",
        f"Measured on {record.get('cpu_detail', record['cpu'])} "
        f"({record['machine'].get('cpu_cores')} cores), means over the seeds; "
        "``python -m benchmarks --full shift``.",
        "",
    ]
    return "\n".join(lines)


def _done(path, record):
    """The fits already in ``path`` of this size and CPU, by (seed, variant)."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if old.get("cpu") != record["cpu"] or old.get("quick") != record["quick"]:
        return {}
    return {(f["seed"], f.get("variant", "plain")): f for f in old.get("fits", [])}


def _rows(fit):
    rows = []
    for method, row in fit["detectors"].items():
        rows.append(
            {
                "seed": fit["seed"],
                "variant": fit.get("variant", "plain"),
                "method": method,
                "clean_acc": round(fit["clean_acc"], 4),
                "mixed_acc": round(fit["mixed_acc"], 4),
                "sel90": round(fit["selective_acc_90"], 4),
                "accepted_test": round(row["accepted_test"], 3),
                **{
                    f"{name}_auroc": round(v["auroc"], 3)
                    for name, v in row.items()
                    if isinstance(v, dict)
                },
                **{
                    f"{name}_fpr95": round(v["fpr_at_tpr"], 3)
                    for name, v in row.items()
                    if isinstance(v, dict)
                },
            }
        )
    return rows
