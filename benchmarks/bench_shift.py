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
surest of) at 90 % and 80 % coverage. Each seed trains the variants of
``VARIANTS``: the default model (``plain``), the same with
:class:`~skfashion.callbacks.RobustAugmentation` (``robust``), and with
:class:`~skfashion.callbacks.ConsistencyTraining`, its operations disjoint
from Fashion-MNIST-C's families (``consistency``, its default) or of them
(``consistency_in_family``). The first seed also trains, for each family
of :data:`~skfashion.callbacks.IN_FAMILY_OPS`, consistency training on the
other families' operations (``without_FAMILY``): the leave-one-family-out
table gives each family's accuracy on a model that never saw it in kind.
``--quick``: 6,000 training images, 2 epochs, one seed.

Writes ``shift.json`` after each fit; a fit already there (same seed,
variant, size and CPU) is not run again, so the fits (about 20 minutes each
on a 2-core CPU) can be spread over sessions. ``python -m benchmarks
[--full] shift``.
"""

import json
import time
from pathlib import Path

import numpy as np

from skfashion.utils import atomic_write, cpu_detail

from ._common import machine

OWN_JSON = True
SEEDS = (0, 1, 2)
#: each variant's callbacks: (name in skfashion.callbacks, its parameters)
VARIANTS = {
    "plain": [],
    "robust": [("RobustAugmentation", {})],
    # consistency training with operations of no Fashion-MNIST-C family
    "consistency": [("ConsistencyTraining", {})],
    # the same with operations of Fashion-MNIST-C's own families
    "consistency_in_family": [("ConsistencyTraining", {"ops": "in_family"})],
}
#: the leave-one-family-out variants' prefix: ``without_FAMILY`` trains with
#: every in-family operation but FAMILY's (first seed only)
WITHOUT = "without_"


def left_out_variants():
    """``without_FAMILY`` for each family of
    :data:`~skfashion.callbacks.IN_FAMILY_OPS`: consistency training on the
    other families' operations, so that FAMILY's corruptions are ones the
    model never saw in kind."""
    from skfashion.callbacks import IN_FAMILY_OPS

    return {
        f"{WITHOUT}{family}": [
            ("ConsistencyTraining", {"ops": [o for o in IN_FAMILY_OPS if o != family]})
        ]
        for family in IN_FAMILY_OPS
    }


def variant_callbacks(variant):
    """A variant's callbacks: (name in skfashion.callbacks, parameters)."""
    if variant.startswith(WITHOUT):
        return left_out_variants()[variant]
    return VARIANTS[variant]


#: the old names of evaluate_under_shift's numbers, in records written before
#: the benchmark used it
OLD_KEYS = {
    "clean_acc": "clean_accuracy",
    "mixed_acc": "mixed_accuracy",
    "mixed_acc_by_corruption": "mixed_accuracy_by_corruption",
    "selective_acc_90": "selective_accuracy_90",
    "selective_acc_80": "selective_accuracy_80",
}


def renamed(fit):
    """A record's fit under :func:`evaluate_under_shift`'s names."""
    return {OLD_KEYS.get(key, key): value for key, value in fit.items()}


def fit_one(seed, quick, data, save=None, variant="plain"):
    """Train one model and measure it with
    :func:`~skfashion.evaluation.evaluate_under_shift` (the report's "Under
    shift" numbers, on the whole test set and 2,000 images of each set that
    is not garments)."""
    from sklearn.pipeline import make_pipeline

    from skfashion import FastFashionCNN, PixelScaler, callbacks
    from skfashion.evaluation import evaluate_under_shift

    train, test = data
    n = 6000 if quick else len(train.data) - 5000
    params = {"random_state": seed, "verbose": 0}
    if quick:
        params["max_epochs"] = 2
    chosen = variant_callbacks(variant)
    if chosen:
        params["callbacks"] = [
            getattr(callbacks, name)(**kwargs) for name, kwargs in chosen
        ]
    model = make_pipeline(PixelScaler(), FastFashionCNN(**params))
    start = time.perf_counter()
    model.fit(train.data[5000 : 5000 + n], train.target[5000 : 5000 + n])
    result = {
        "seed": seed,
        "variant": variant,
        "train_s": round(time.perf_counter() - start, 1),
    }
    if save:
        from skfashion import save_model

        save_model(model, save)
    shift = evaluate_under_shift(
        model,
        test.data,
        test.target,
        train.data[:5000],
        train.target[:5000],
        n_in=len(test.target),
        n_out=2000,
    )
    return result | shift.numbers


def run(quick=True, out="benchmarks/results"):
    from skfashion import fetch_fashion_mnist
    from skfashion.utils import cpu_name

    data = (fetch_fashion_mnist(subset="train"), fetch_fashion_mnist(subset="test"))
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
    seeds = SEEDS[:1] if quick else SEEDS
    plan = [(seed, variant) for seed in seeds for variant in VARIANTS]
    plan += [(seeds[0], variant) for variant in left_out_variants()]
    for seed, variant in plan:
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


def _ece(fits, key):
    """The mean of ``key`` over the fits, or "n/a" where a record written
    before the benchmark measured it lacks it."""
    if not all(key in f for f in fits):
        return "n/a"
    return f"{_mean(fits, lambda f: f[key]):.2%}"


def _seconds(fits, plain_s):
    seconds = _mean(fits, lambda f: f["train_s"])
    ratio = f" ({seconds / plain_s:.2f}x)" if plain_s else ""
    return f"{seconds:,.0f}{ratio}"


def rst_table(record):
    """The docs' tables of a record (``shift.rst`` beside the JSON): each
    variant's accuracies over its seeds, then the mixed accuracy per
    corruption."""
    every = [renamed(f) for f in record["fits"]]
    left_out = [f for f in every if f.get("variant", "").startswith(WITHOUT)]
    by_variant = {
        v: [f for f in every if f.get("variant", "plain") == v] for v in VARIANTS
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
        "     - selective accuracy, 90 % / 80 % coverage",
        "     - ECE on the mixed set, before / after temperature scaling",
        "     - energy vs digits: AUROC / FPR@95",
        "     - best feature score vs digits: AUROC",
        "     - training seconds (x plain's)",
    ]
    plain_s = (
        _mean(by_variant["plain"], lambda f: f["train_s"])
        if ("plain" in by_variant)
        else None
    )
    for variant, fits in by_variant.items():

        def digits(method, what, fits=fits):
            return _mean(fits, lambda f: f["detectors"][method]["digits"][what])

        best = max(("mahalanobis", "vim"), key=lambda m: digits(m, "auroc"))
        lines += [
            f"   * - {variant} ({seeds[variant]})",
            f"     - {_mean(fits, lambda f: f['clean_accuracy']):.2%}",
            f"     - {_mean(fits, lambda f: f['mixed_accuracy']):.2%}",
            f"     - {_mean(fits, lambda f: f['selective_accuracy_90']):.2%} / "
            f"{_mean(fits, lambda f: f['selective_accuracy_80']):.2%}",
            f"     - {_ece(fits, 'mixed_ece')} / {_ece(fits, 'mixed_ece_temperature')}",
            f"     - {digits('energy', 'auroc'):.3f} / "
            f"{digits('energy', 'fpr_at_tpr'):.1%}",
            f"     - {digits(best, 'auroc'):.3f} ({best})",
            f"     - {_seconds(fits, plain_s)}",
        ]
    corruptions = sorted(
        next(iter(by_variant.values()))[0]["mixed_accuracy_by_corruption"]
    )
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
            acc = _mean(
                fits, lambda f, name=name: f["mixed_accuracy_by_corruption"][name]
            )
            lines.append(f"     - {acc:.1%}")
    lines += left_out_table(by_variant, left_out)
    lines += [
        "",
        f"Measured on {record.get('cpu_detail', record['cpu'])} "
        f"({record['machine'].get('cpu_cores')} cores), means over the seeds; "
        "``python -m benchmarks --full shift``.",
        "",
    ]
    return "\n".join(lines)


def left_out_table(by_variant, left_out):
    """Leave one family out: each Fashion-MNIST-C family's accuracy (the mean
    over its corruptions of the mixed set) for the plain model, consistency
    training on every in-family operation, on all but that family's, and on
    the disjoint operations."""
    from skfashion.datasets import CORRUPTION_FAMILIES

    without = {f["variant"][len(WITHOUT) :]: f for f in left_out}
    if not without:
        return []
    columns = ["plain", "consistency_in_family", "consistency"]
    columns = [c for c in columns if c in by_variant]
    lines = [
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - family (its corruptions)",
        *(f"     - {c}" for c in columns[:2]),
        "     - in-family without it",
        *(f"     - {c}" for c in columns[2:]),
    ]
    for family, fit in without.items():
        names = sorted(c for c, f in CORRUPTION_FAMILIES.items() if f == family)

        def family_accuracy(f, names=names):
            return np.mean([f["mixed_accuracy_by_corruption"][n] for n in names])

        cells = [_mean(by_variant[c], family_accuracy) for c in columns]
        cells.insert(min(2, len(cells)), family_accuracy(fit))
        lines.append(f"   * - {family} ({', '.join(names)})")
        lines += [f"     - {value:.1%}" for value in cells]
    return lines


def _done(path, record):
    """The fits already in ``path`` of this size and CPU, by (seed, variant)."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if old.get("cpu") != record["cpu"] or old.get("quick") != record["quick"]:
        return {}
    fits = [renamed(f) for f in old.get("fits", [])]
    return {(f["seed"], f.get("variant", "plain")): f for f in fits}


def _rows(fit):
    rows = []
    for method, row in fit["detectors"].items():
        rows.append(
            {
                "seed": fit["seed"],
                "variant": fit.get("variant", "plain"),
                "method": method,
                "clean_acc": round(fit["clean_accuracy"], 4),
                "mixed_acc": round(fit["mixed_accuracy"], 4),
                "sel90": round(fit["selective_accuracy_90"], 4),
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
