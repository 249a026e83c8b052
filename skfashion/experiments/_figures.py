"""The report's figures: each model's curves, confusion matrix, reliability
diagram and mistakes (of its first seed), and the recall of every model."""

import matplotlib.pyplot as plt
import numpy as np

from ..datasets import CLASS_NAMES
from ..evaluation import (
    plot_confusion_matrix,
    plot_history,
    plot_mistakes,
    plot_novelty_scores,
    plot_reliability,
    plot_selective_curve,
    plot_shift_accuracy,
)

__all__ = [
    "recall_figure",
    "write_model_figures",
    "write_recall_figure",
    "write_shift_figures",
]

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


def recall_figure(titles, evaluations):
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
    return fig


def write_recall_figure(path, titles, evaluations):
    """recall.png: :func:`recall_figure`."""
    _save(recall_figure(titles, evaluations), path)


def write_shift_figures(folder, title, shift):
    """shift.png (accuracy by severity of each corruption; the selective
    accuracy curve) and novelty.png (the default detector's scores)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    plot_shift_accuracy(shift, ax=left)
    plot_selective_curve(shift, ax=right)
    fig.suptitle(f"{title} under shift", fontsize=10)
    _save(fig, folder / "shift.png")

    ax = plot_novelty_scores(shift)
    ax.set_title(f"{title}: the novelty score of test images and strangers", fontsize=9)
    _save(ax.figure, folder / "novelty.png")
