"""The report's files: per-model results and figures, metrics.json, report.md.

Every function writes into the run's temporary folder, which ``run`` moves
into place only when everything is written.
"""

import itertools
import json

import numpy as np

from ..._catalog import ORIGINAL
from .._common import pct
from ._template import MODEL_SECTION, REPORT

__all__ = ["write_model_files", "write_recall_figure", "write_report"]

ORIGINAL_ACCURACY = {name: m["test_accuracy"] for name, m in ORIGINAL.items()}


def in_words(p, a, b, a_only, b_only):
    """A p-value of McNemar's test, in a sentence."""
    better, worse = (a, b) if a_only >= b_only else (b, a)
    if a_only == b_only:
        return f"{a} and {b} get the same number of images right: no difference."
    if p < 0.001:
        strength = "almost certainly real, not chance"
    elif p < 0.01:
        strength = "very unlikely to be chance"
    elif p < 0.05:
        strength = "unlikely to be chance (p < 0.05)"
    else:
        return (
            f"{better}'s lead over {worse} may well be chance: this test set "
            f"cannot tell them apart (p = {p:.2g})."
        )
    return f"{better}'s lead over {worse} is {strength} (p = {p:.2g})."


def _history_frame(fit):
    import pandas as pd

    keys = ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "dur"]
    rows = [{k: record.get(k) for k in keys} for record in fit.pipe[-1].history_]
    frame = pd.DataFrame(rows, columns=keys)
    frame.insert(0, "random_state", fit.seed)
    return frame


def write_model_files(folder, title, fits, evaluation, data, onnx=None):
    """History, curves, confusion matrix, mistakes, classification report and
    the model of one model's runs (figures of the first seed); with ``onnx``
    ("float32" or "int8"), the model as ONNX too (and with "int8", quantized
    beside it, calibrated on the last 500 training images)."""
    import joblib
    import pandas as pd

    from skfashion import save_model

    folder.mkdir()
    first = fits[0]
    pd.concat([_history_frame(f) for f in fits]).to_csv(
        folder / "history.csv", index=False
    )
    _write_figures(folder, title, first, evaluation, data)
    _write_classification_report(folder, data.y_test, first.y_pred)
    joblib.dump(first.pipe, folder / "model.pkl")
    save_model(first.pipe, folder / "model.safetensors")
    if onnx:
        from skfashion import export_onnx

        export_onnx(first.pipe, folder / "model.onnx")
        if onnx == "int8":
            export_onnx(
                first.pipe,
                folder / "model-int8.onnx",
                quantize="int8",
                calibration=data.X[-500:],
            )


def _write_figures(folder, title, first, evaluation, data):
    """curves.png, the confusion matrix (.csv and .png), reliability.png and
    mistakes.png."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from skfashion import (
        CLASS_NAMES,
        plot_confusion_matrix,
        plot_history,
        plot_mistakes,
    )

    axes = plot_history(first.pipe)
    axes[0].figure.suptitle(f"{title}, random_state={first.seed}")
    axes[0].figure.savefig(folder / "curves.png", dpi=110)
    plt.close(axes[0].figure)

    cm = np.array(evaluation["confusion_matrix"])
    pd.DataFrame(cm, index=CLASS_NAMES, columns=CLASS_NAMES).to_csv(
        folder / "confusion_matrix.csv", index_label="true \\ predicted"
    )
    labels = np.arange(len(CLASS_NAMES))
    display = plot_confusion_matrix(data.y_test, first.y_pred, labels=labels)
    display.ax_.set_title(f"{title}: test set confusion matrix")
    display.figure_.savefig(folder / "confusion_matrix.png", dpi=110)
    plt.close(display.figure_)

    from skfashion import plot_reliability

    ax = plot_reliability(data.y_test, first.proba, classes=first.pipe.classes_)
    ax.set_title(f"{title}: reliability on the test set", fontsize=9)
    ax.figure.savefig(folder / "reliability.png", dpi=110)
    plt.close(ax.figure)

    fig = plot_mistakes(
        data.X_test,
        data.y_test,
        first.y_pred,
        proba=first.proba,
        classes=first.pipe.classes_,
    )
    fig.suptitle(f"{title}: most confused pairs (true → predicted)", fontsize=9)
    fig.savefig(folder / "mistakes.png", dpi=110)
    plt.close(fig)


def _write_classification_report(folder, y_true, y_pred):
    """scikit-learn's classification report, as text and as JSON."""
    from sklearn.metrics import classification_report

    from skfashion import CLASS_NAMES

    kwargs = {
        "labels": np.arange(len(CLASS_NAMES)),
        "target_names": list(CLASS_NAMES),
        "digits": 4,
        "zero_division": 0,
    }
    (folder / "classification_report.txt").write_text(
        classification_report(y_true, y_pred, **kwargs)
    )
    report = classification_report(y_true, y_pred, output_dict=True, **kwargs)
    (folder / "classification_report.json").write_text(json.dumps(report, indent=2))


def write_recall_figure(path, titles, evaluations):
    """One bar per class and model: each model's recall on the test set."""
    import matplotlib.pyplot as plt

    from skfashion import CLASS_NAMES

    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    width = 0.8 / max(len(evaluations), 1)
    x = np.arange(len(CLASS_NAMES))
    for i, (name, ev) in enumerate(evaluations.items()):
        ax.bar(x + i * width, 100 * np.array(ev["recall"]), width, label=titles[name])
    ax.set_xticks(x + width * (len(evaluations) - 1) / 2, CLASS_NAMES, rotation=30)
    ax.set(ylabel="recall (%)", ylim=(0, 118), title="Recall of each class (test set)")
    ax.set_yticks(range(0, 101, 20))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", ncol=len(evaluations), fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _accuracy_row(title, name, ev):
    s = ev["summary"]
    acc = pct(s["mean"]) + (f" ± {100 * s['std']:.2f}" if s["n"] > 1 else "")
    ci = "—" if s["ci95"] is None else " – ".join(pct(v) for v in s["ci95"])
    original = pct(ORIGINAL_ACCURACY[name]) if name in ORIGINAL_ACCURACY else "—"
    return (
        f"| {title} | {acc} | {ci} | {s['n']} | {original} | "
        f"{pct(ev['valid_accuracy'])} | {ev['train_seconds']:.0f} s |"
    )


def _calibration_md(titles, evaluations):
    """The calibration table: ECE as predicted and after temperature scaling."""
    rows = [
        "| model | ECE (test) | ECE after temperature scaling | temperature |",
        "|---|---|---|---|",
    ]
    for name, ev in evaluations.items():
        temps = ", ".join(f"{r['temperature']:.2f}" for r in ev["runs"])
        rows.append(
            f"| {titles[name]} | {pct(ev['ece'])} | "
            f"{pct(ev['ece_temperature'])} | {temps} |"
        )
    return "\n".join(rows)


def _comparisons_md(titles, comparisons):
    if not comparisons:
        return "One model only: nothing to compare."
    lines = [
        "McNemar's exact test on the first seed's predictions: of the test "
        "images that exactly one model of a pair gets right, how many each "
        "gets; if the two were equally good, each such image would be a coin "
        "flip.",
        "",
        "| models | right only by the first | right only by the second | p-value |",
        "|---|---|---|---|",
    ]
    for c in comparisons:
        lines.append(
            f"| {titles[c['a']]} vs {titles[c['b']]} | {c['a_only']} | "
            f"{c['b_only']} | {c['p_value']:.2g} |"
        )
    lines.append("")
    lines += [f"- {c['words']}" for c in comparisons]
    return "\n".join(lines)


def _discussion(titles, evaluations):

    lines = []
    if "mlp" in evaluations:
        lines.append(
            "The original's dense network confused T-shirt/top ↔ Shirt 103 and 96 "
            "times and Pullover → Shirt 64 times; this run's most confused pairs "
            "are listed above."
        )
    for a, b in itertools.combinations(evaluations, 2):
        ra, rb = (np.array(evaluations[m]["recall"]) for m in (a, b))
        lines.append(f"From {titles[a]} to {titles[b]}, " + _recall_change(ra, rb))
    return "\n\n".join(lines) or "—"


def _recall_change(ra, rb):
    """In words: the classes whose recall rises most, and the one that
    falls most (or gains least, if none falls)."""
    from skfashion import CLASS_NAMES

    def change(i):
        return f"{CLASS_NAMES[i]} ({100 * ra[i]:.1f} → {100 * rb[i]:.1f} %)"

    gain = rb - ra
    order = np.argsort(gain, kind="stable")[::-1]
    rising = [i for i in order[:3] if gain[i] > 0]
    words = (
        "recall rises most on " + ", ".join(map(change, rising))
        if rising
        else "recall rises on no class"
    )
    worst = order[-1]
    if gain[worst] < 0:
        return f"{words}; it falls most on {change(worst)}."
    if worst in rising or not rising:
        return words + "."
    return f"{words}; it rises least on {change(worst)}."


def _seeds_text(random_states):
    """'(random states 0, 1, 2)', or per model when they differ."""
    distinct = {tuple(v) for v in random_states.values()}
    if len(distinct) == 1:
        return "(random states " + ", ".join(map(str, next(iter(distinct)))) + ")"
    return (
        "(random states "
        + "; ".join(f"{m} " + ", ".join(map(str, v)) for m, v in random_states.items())
        + ")"
    )


def write_report(folder, run):
    """``metrics.json`` and ``report.md`` of a finished run."""
    (folder / "metrics.json").write_text(json.dumps(_metrics(run), indent=2) + "\n")
    (folder / "report.md").write_text(_markdown(run))


def _metrics(run):
    """Every number of the run, for metrics.json."""
    from skfashion import CLASS_NAMES

    metrics = {
        name: {
            "model": run["titles"][name],
            "test_accuracy": ev["summary"]["mean"],
            "test_accuracy_std": ev["summary"]["std"],
            "test_accuracy_ci95": ev["summary"]["ci95"],
            "valid_accuracy": ev["valid_accuracy"],
            "train_seconds": ev["train_seconds"],
            "predict_seconds": ev["predict_seconds"],
            "ece": ev["ece"],
            "ece_temperature": ev["ece_temperature"],
            "original_test_accuracy": ORIGINAL_ACCURACY.get(name),
            "seeds": ev["summary"]["n"],
            "runs": ev["runs"],
            "most_confused": ev["most_confused"],
            "recall": dict(zip(CLASS_NAMES, ev["recall"], strict=True)),
        }
        for name, ev in run["evaluations"].items()
    }
    for key in ("comparisons", "time", "environment", "protocol"):
        metrics[key] = run[key]
    return metrics


def _model_sections(titles, evaluations, n_test):
    """One section of report.md per model: its figures and confused pairs."""
    sections = []
    for name, ev in evaluations.items():
        confused = "\n".join(
            f"- {p['true']} → {p['predicted']}: {p['count']} "
            f"(and {p['reverse_count']} the other way)"
            for p in ev["most_confused"]
        )
        sections.append(
            MODEL_SECTION.substitute(
                title=titles[name], name=name, n_test=f"{n_test:,}", confused=confused
            )
        )
    return "".join(sections)


def _epochs_text(epochs):
    """'10 epochs', or each model's when they differ."""
    if len(set(epochs.values())) == 1:
        n = next(iter(epochs.values()))
        return f"{n} epoch{'s' * (n != 1)}"
    return ", ".join(f"{n} epochs ({m})" for m, n in epochs.items())


def _markdown(run):
    """report.md: the template filled in with the run."""
    titles, evaluations, protocol = run["titles"], run["evaluations"], run["protocol"]
    fast = "fast" in evaluations
    quick = " **Quick mode: a smoke test on a few hundred images, not a result.**"
    return REPORT.substitute(
        fast_sentence=", beside `FastFashionCNN` with its own modern recipe"
        if fast
        else "",
        n_valid=f"{protocol['n_valid']:,}",
        n_train=f"{protocol['n_train']:,}",
        n_test=f"{protocol['n_test']:,}",
        epochs=_epochs_text(protocol["epochs"]),
        quick=quick if protocol["quick"] else "",
        accuracy_header=(
            "| model | test accuracy | 95 % interval | seeds | original report "
            "(2020, one run) | validation | training per fit |\n"
            "|---|---|---|---|---|---|---|"
        ),
        accuracy_rows="\n".join(
            _accuracy_row(titles[n], n, ev) for n, ev in evaluations.items()
        ),
        seeds=_seeds_text(protocol["random_states"]),
        comparisons=_comparisons_md(titles, run["comparisons"]),
        calibration=_calibration_md(titles, evaluations),
        recall_png="recall.png",
        model_sections=_model_sections(titles, evaluations, protocol["n_test"]),
        discussion=_discussion(titles, evaluations),
        estimated=run["time"]["estimated"],
        actual=run["time"]["actual"],
        environment="\n".join(f"| {k} | {v} |" for k, v in run["environment"].items()),
    )


def comparison(a, b, titles, y_true, pred_a, pred_b):
    """McNemar's test of two models' first-seed predictions, with words."""
    from skfashion.evaluation import mcnemar

    test = mcnemar(y_true, pred_a, pred_b)
    words = in_words(
        test["p_value"], titles[a], titles[b], test["a_only"], test["b_only"]
    )
    return {"a": a, "b": b, **test, "words": words}
