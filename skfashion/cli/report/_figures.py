"""The report's figures: each model's curves, confusion matrix, reliability
diagram and mistakes (of its first seed), and the recall of every model."""

import matplotlib.pyplot as plt
import numpy as np

from skfashion import (
    CLASS_NAMES,
    plot_confusion_matrix,
    plot_history,
    plot_mistakes,
    plot_reliability,
)

__all__ = ["write_model_figures", "write_recall_figure", "write_shift_figures"]

DPI = 110


def _save(figure, path):
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def write_model_figures(folder, title, first, data):
    """curves.png, confusion_matrix.png, reliability.png and mistakes.png of
    a model's first fit."""
    axes = plot_history(first.pipe)
    axes[0].figure.suptitle(f"{title}, random_state={first.seed}")
    _save(axes[0].figure, folder / "curves.png")

    labels = np.arange(len(CLASS_NAMES))
    display = plot_confusion_matrix(data.y_test, first.y_pred, labels=labels)
    display.ax_.set_title(f"{title}: test set confusion matrix")
    _save(display.figure_, folder / "confusion_matrix.png")

    ax = plot_reliability(data.y_test, first.proba, classes=first.pipe.classes_)
    ax.set_title(f"{title}: reliability on the test set", fontsize=9)
    _save(ax.figure, folder / "reliability.png")

    fig = plot_mistakes(
        data.X_test,
        data.y_test,
        first.y_pred,
        proba=first.proba,
        classes=first.pipe.classes_,
    )
    fig.suptitle(f"{title}: most confused pairs (true → predicted)", fontsize=9)
    _save(fig, folder / "mistakes.png")


def write_recall_figure(path, titles, evaluations):
    """One bar per class and model: each model's recall on the test set."""
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
    _save(fig, path)


def write_shift_figures(folder, title, shift):
    """shift.png (accuracy by severity of each corruption; the selective
    accuracy curve) and novelty.png (the default detector's scores)."""
    numbers = shift.numbers
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    colors = plt.get_cmap("tab20").colors
    for i, (name, row) in enumerate(numbers["accuracy_by_severity"].items()):
        severities = [int(s) for s in row]
        accuracy = 100 * np.array(list(row.values()))
        left.plot(severities, accuracy, marker=".", color=colors[i], label=name)
    left.axhline(100 * numbers["clean_accuracy"], color="k", ls="--", label="clean")
    left.axhline(100 * numbers["mixed_accuracy"], color="k", ls=":", label="mixed")
    left.set(xlabel="severity", ylabel="accuracy (%)", xticks=range(1, 6))
    left.set_title("Fashion-MNIST-C, by corruption", fontsize=9)
    left.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    coverage, accuracy = shift.curve
    right.plot(100 * coverage, 100 * accuracy)
    right.set(xlabel="coverage: answers kept (%)", ylabel="accuracy (%)")
    right.set_ylim(max(0.0, 100 * accuracy[-1] - 5), 100.5)
    right.set_title("Selective accuracy (clean test set)", fontsize=9)
    right.grid(alpha=0.3)
    fig.suptitle(f"{title} under shift", fontsize=10)
    _save(fig, folder / "shift.png")

    fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
    scores = shift.scores
    low, high = np.percentile(np.concatenate(list(scores.values())), [0.5, 99.5])
    bins = np.linspace(low, high, 60)
    for name, values in scores.items():
        ax.hist(
            np.clip(values, low, high),
            bins=bins,
            density=True,
            histtype="step" if name != "test" else "stepfilled",
            alpha=0.4 if name == "test" else 1.0,
            label=name,
        )
    ax.axvline(shift.detector.offset_, color="k", ls="--", label="threshold")
    ax.set(
        xlabel=f"{numbers['default_detector']} score (higher: more typical)",
        ylabel="density",
    )
    ax.set_title(f"{title}: the novelty score of test images and strangers", fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, folder / "novelty.png")
