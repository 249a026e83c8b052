"""Training curves, confusion matrices (via scikit-learn's display) and the
images a model gets wrong."""

import numpy as np

from ..datasets import class_name
from ..utils import split_pipeline

__all__ = ["plot_confusion_matrix", "plot_history", "plot_mistakes"]


def _history_records(estimator_or_history):
    _, estimator_or_history = split_pipeline(estimator_or_history)  # the last step
    history = getattr(estimator_or_history, "history_", estimator_or_history)
    try:
        records = list(history)
    except TypeError:
        raise TypeError(
            "plot_history needs a fitted skfashion estimator, a pipeline ending "
            "in one, a skorch History or a list of per-epoch dicts; got "
            f"{type(estimator_or_history).__name__}."
        ) from None
    if not records:
        raise ValueError("The history is empty: fit the estimator first.")
    return records


def plot_history(estimator_or_history, *, ax=None):
    """Plot accuracy and loss per epoch, for training and validation.

    The two panels mirror the original report's Figures 1 and 3: accuracy and
    loss against the epoch, on a y-axis from 0 to 1 (extended if a loss is
    larger).

    Parameters
    ----------
    estimator_or_history : estimator, Pipeline, skorch History or list of dict
        A fitted :class:`FashionMLP` or :class:`FashionCNN` (or a pipeline
        ending in one), or its ``history_``, or a list of per-epoch dicts
        with keys among ``train_acc``, ``valid_acc``, ``train_loss`` and
        ``valid_loss``.
    ax : array-like of two matplotlib Axes, default=None
        Where to draw accuracy and loss. By default a new figure with two
        side-by-side panels is made.

    Returns
    -------
    axes : ndarray of two matplotlib Axes
        The accuracy and loss panels; ``axes[0].figure`` is the figure.

    Examples
    --------
    >>> from skfashion import plot_history
    >>> history = [{"epoch": 1, "train_acc": 0.80, "valid_acc": 0.84,
    ...             "train_loss": 0.60, "valid_loss": 0.45},
    ...            {"epoch": 2, "train_acc": 0.86, "valid_acc": 0.86,
    ...             "train_loss": 0.40, "valid_loss": 0.39}]
    >>> axes = plot_history(history)
    >>> [a.get_title() for a in axes]
    ['Accuracy', 'Loss']
    """
    import matplotlib.pyplot as plt

    records = _history_records(estimator_or_history)
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    axes = np.asarray(ax).ravel()
    if axes.size != 2:
        raise ValueError(f"ax must hold 2 Axes (accuracy, loss), got {axes.size}.")
    epochs = [r.get("epoch", i + 1) for i, r in enumerate(records)]
    for panel, metric, title in zip(
        axes, ("acc", "loss"), ("Accuracy", "Loss"), strict=True
    ):
        top = 1.0
        for split, style in (("train", "-o"), ("valid", "--s")):
            key = f"{split}_{metric}"
            values = [r.get(key, np.nan) for r in records]
            if np.all(np.isnan(values)):
                continue
            label = "training" if split == "train" else "validation"
            panel.plot(epochs, values, style, label=label, markersize=4)
            top = max(top, np.nanmax(values) * 1.05)
        panel.set(title=title, xlabel="epoch", ylabel=title.lower(), ylim=(0, top))
        panel.grid(alpha=0.3)
        panel.legend(loc="lower right" if metric == "acc" else "upper right")
    return axes


def plot_confusion_matrix(y_true, y_pred, *, labels=None, ax=None, **kwargs):
    """Plot a confusion matrix with class names, using scikit-learn's display.

    A thin wrapper of
    :meth:`sklearn.metrics.ConfusionMatrixDisplay.from_predictions` that
    rotates the long Fashion-MNIST class names so they stay readable.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        The labels in display order; integer labels 0-9 are shown with their
        Fashion-MNIST names.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.
    **kwargs
        Passed to ``ConfusionMatrixDisplay.from_predictions`` (``normalize``,
        ``cmap``, ``values_format``, ...).

    Returns
    -------
    display : sklearn.metrics.ConfusionMatrixDisplay
        The display, with ``confusion_matrix``, ``ax_`` and ``figure_``.

    Examples
    --------
    >>> from skfashion import plot_confusion_matrix
    >>> disp = plot_confusion_matrix([0, 6, 6, 2], [6, 6, 6, 2])
    >>> disp.confusion_matrix.tolist()
    [[0, 0, 1], [0, 1, 0], [0, 0, 2]]
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    from ..datasets import CLASS_NAMES

    if labels is None:
        labels = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    labels = np.asarray(labels)
    display_labels = labels
    if labels.dtype.kind in "iu" and np.all((labels >= 0) & (labels < 10)):
        display_labels = [CLASS_NAMES[i] for i in labels]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 7), layout="constrained")
    kwargs.setdefault("xticks_rotation", 45)
    kwargs.setdefault("colorbar", False)
    return ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=labels, display_labels=display_labels, ax=ax, **kwargs
    )


def plot_mistakes(
    images,
    y_true,
    y_pred,
    *,
    proba=None,
    classes=None,
    top=3,
    per_pair=8,
    image_shape=(28, 28),
):
    """Show the test images of the most confused class pairs.

    One row per pair (true -> predicted), most frequent first, with up to
    ``per_pair`` of its misclassified images, each titled with the model's
    confidence in its wrong answer when ``proba`` is given.

    Parameters
    ----------
    images : array-like of shape (n_samples, n_pixels) or (n_samples, h, w)
        The images, as pixels (any scale).
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    proba : array-like of shape (n_samples, n_classes), default=None
        Predicted probabilities in the order of ``classes``.
    classes : array-like of shape (n_classes,), default=None
        The labels of ``proba``'s columns (a classifier's ``classes_``);
        by default the sorted labels of ``y_true`` and ``y_pred``.
    top : int, default=3
        How many confused pairs to show.
    per_pair : int, default=8
        Images per pair.
    image_shape : tuple of int, default=(28, 28)
        ``(height, width)`` of a flat row of pixels.

    Returns
    -------
    fig : matplotlib Figure
        The figure; ``fig.axes`` holds one Axes per image slot.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import plot_mistakes
    >>> images = np.zeros((4, 784))
    >>> fig = plot_mistakes(images, [0, 6, 6, 2], [6, 0, 6, 2], top=2, per_pair=2)
    >>> [ax.get_ylabel() for ax in fig.axes[::2]]
    ['T-shirt/top\\n→ Shirt', 'Shirt\\n→ T-shirt/top']
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if classes is None:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    classes = np.asarray(classes)
    wrong = y_true != y_pred
    pairs, counts = np.unique(
        np.stack([y_true[wrong], y_pred[wrong]], axis=1), axis=0, return_counts=True
    )
    order = np.argsort(-counts, kind="stable")[:top]
    rows = max(len(order), 1)
    fig, axes = plt.subplots(
        rows,
        per_pair,
        figsize=(1.1 * per_pair + 1.2, 1.35 * rows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    for row, k in enumerate(order):
        true, pred = pairs[k]
        index = np.flatnonzero((y_true == true) & (y_pred == pred))[:per_pair]
        column = np.flatnonzero(classes == pred)
        confidence = None
        if proba is not None and column.size:
            confidence = np.asarray(proba)[index, column[0]]
        _mistakes_row(axes[row], true, pred, images[index], confidence, image_shape)
    return fig


def _mistakes_row(axes, true, pred, images, confidence, image_shape):
    """One confused pair: its name, its images, the confidence in each
    wrong answer (``confidence`` of every sample, or None)."""
    axes[0].set_ylabel(
        f"{class_name(true)}\n→ {class_name(pred)}",
        rotation=0,
        ha="right",
        va="center",
        fontsize=8,
    )
    for ax, image in zip(axes, images, strict=False):
        ax.imshow(image.reshape(image_shape), cmap="gray_r")
    if confidence is not None:
        for ax, p in zip(axes, confidence, strict=False):
            ax.set_title(f"{100 * p:.0f} %", fontsize=7)
