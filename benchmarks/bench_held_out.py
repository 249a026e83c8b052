"""Classes it never learned: ``FastFashionCNN()`` trained on 8 of the 10
classes, and how well each novelty detector flags the 2 held out.

For each split of :data:`skfashion.evaluation.HELD_OUT_SPLITS` (each class
held out once; ``(6, 5)``, Shirt and Sandal, the hard one: each has a near
twin among the classes learned): ``PixelScaler() -> FastFashionCNN()``
trained on the learned classes' images of the last 55,000 training images;
a :class:`~skfashion.novelty.NoveltyDetector` of each method fitted on the
learned classes' images among the first 5,000; AUROC and FPR at 95 % TPR of
the held-out classes' test images against the learned classes' ones
(:func:`~skfashion.evaluation.held_out_class_detection`). ``--quick``: 6,000
training images, 2 epochs, the first two splits.

Writes ``held_out.json`` after each split (a split already there, of the
same size and CPU, is not trained again: the full run's 5 fits take about
20 minutes each on a 2-core CPU) and ``held_out.rst``, the docs' table.
``python -m benchmarks [--full] held_out``.
"""

import json
import time
from pathlib import Path

from skfashion.utils import atomic_write, cpu_detail

from ._common import machine

OWN_JSON = True


def fit_split(split, quick, data, seed=0):
    """Train without the classes of ``split``; each detector's numbers."""
    from sklearn.pipeline import make_pipeline

    from skfashion import FastFashionCNN, PixelScaler
    from skfashion.evaluation import held_out_class_detection, held_out_classes

    train, test = data
    X, y = train.data[5000:], train.target[5000:]
    if quick:
        X, y = X[:6000], y[:6000]
    params = {"random_state": seed, "verbose": 0}
    if quick:
        params["max_epochs"] = 2
    learned = held_out_classes(y, split)
    model = make_pipeline(PixelScaler(), FastFashionCNN(**params))
    start = time.perf_counter()
    model.fit(X[learned], y[learned])
    train_s = time.perf_counter() - start
    fit = held_out_classes(train.target[:5000], split)
    known = held_out_classes(test.target, split)
    scores = held_out_class_detection(
        model,
        train.data[:5000][fit],
        train.target[:5000][fit],
        test.data[known],
        test.data[~known],
        random_state=seed,
    )
    accuracy = float((model.predict(test.data[known]) == test.target[known]).mean())
    return {
        "split": list(split),
        "seed": seed,
        "train_s": round(train_s, 1),
        "accuracy_learned": accuracy,
        "detectors": scores,
    }


def run(quick=True, out="benchmarks/results"):
    from skfashion import CLASS_NAMES, fetch_fashion_mnist
    from skfashion.evaluation import HELD_OUT_SPLITS
    from skfashion.utils import cpu_name

    data = (fetch_fashion_mnist(subset="train"), fetch_fashion_mnist(subset="test"))
    record = {
        "cpu": cpu_name(),
        "cpu_detail": cpu_detail(),
        "machine": machine(),
        "quick": quick,
        "splits": [],
    }
    path = Path(out) / "held_out.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _done(path, record)
    rows = []
    for split in HELD_OUT_SPLITS[:2] if quick else HELD_OUT_SPLITS:
        result = done.get(tuple(split)) or fit_split(split, quick, data)
        record["splits"].append(result)
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(record, indent=2))
        path.with_suffix(".rst").write_text(rst_table(record, CLASS_NAMES))
        for method, row in result["detectors"].items():
            rows.append(
                {
                    "held out": " + ".join(CLASS_NAMES[c] for c in split),
                    "method": method,
                    "auroc": round(row["auroc"], 3),
                    "fpr95": round(row["fpr_at_tpr"], 3),
                    "acc_learned": round(result["accuracy_learned"], 4),
                    "train_s": result["train_s"],
                }
            )
    return rows


def rst_table(record, class_names):
    """The docs' table: each split's AUROC / FPR@95 by detector, and their
    mean over the splits."""
    splits = record["splits"]
    methods = list(splits[0]["detectors"])
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - held out",
        "     - accuracy on the learned classes",
        *(f"     - {m}: AUROC / FPR@95" for m in methods),
    ]

    def cells(rows):
        return [
            f"     - {sum(r[m]['auroc'] for r in rows) / len(rows):.3f} / "
            f"{sum(r[m]['fpr_at_tpr'] for r in rows) / len(rows):.1%}"
            for m in methods
        ]

    for result in splits:
        names = " + ".join(class_names[c] for c in result["split"])
        lines += [
            f"   * - {names}",
            f"     - {result['accuracy_learned']:.2%}",
            *cells([result["detectors"]]),
        ]
    mean_accuracy = sum(r["accuracy_learned"] for r in splits) / len(splits)
    lines += [
        f"   * - mean of {len(splits)}",
        f"     - {mean_accuracy:.2%}",
        *cells([r["detectors"] for r in splits]),
        "",
        f"Measured on {record.get('cpu_detail', record['cpu'])} "
        f"({record['machine'].get('cpu_cores')} cores), seed 0"
        + (", quick (6,000 images, 2 epochs)" if record.get("quick") else "")
        + "; ``python -m benchmarks --full held_out``.",
        "",
    ]
    return "\n".join(lines)


def _done(path, record):
    """The splits already in ``path`` of this size and CPU, by split."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if old.get("cpu") != record["cpu"] or old.get("quick") != record["quick"]:
        return {}
    return {tuple(s["split"]): s for s in old.get("splits", [])}
