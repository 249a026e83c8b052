"""Evaluation: calibration, plots, and the report's statistics.

Everything ``skfashion report`` computes from predictions, usable from Python:
the calibration error and reliability diagrams, training curves, confusion
matrices and mistakes, accuracy over seeds with its interval, McNemar's test
between two classifiers, the most confused classes and the recall of each;
how well a novelty score tells garments from the rest (AUROC, FPR at 95 %
TPR), and how well it flags classes the model never learned
(``held_out_class_detection``); the accuracy of the answers a model is
surest of (selective accuracy); a model under shift (``evaluate_under_shift`` and its
figures); and the report's own summaries of them
(``temperature_calibration``, ``summarize_fits``, ``compare_models``), with
what they say in words.
"""

from ._calibration import (
    calibration_bins,
    expected_calibration_error,
    plot_reliability,
)
from ._detection import detection_scores, fpr_at_tpr
from ._held_out import HELD_OUT_SPLITS, held_out_class_detection, held_out_classes
from ._plotting import plot_confusion_matrix, plot_history, plot_mistakes
from ._selective import selective_accuracy, selective_curve
from ._shift import (
    SEVERITIES,
    STRANGERS,
    ShiftEvaluation,
    evaluate_under_shift,
    plot_novelty_scores,
    plot_selective_curve,
    plot_shift_accuracy,
    shift_prediction_count,
)
from ._stats import confused_pairs, mcnemar, per_class_recall, seed_summary
from ._summary import (
    compare_models,
    mcnemar_in_words,
    recall_change_in_words,
    summarize_fits,
    temperature_calibration,
)

__all__ = [
    "HELD_OUT_SPLITS",
    "SEVERITIES",
    "STRANGERS",
    "ShiftEvaluation",
    "calibration_bins",
    "compare_models",
    "confused_pairs",
    "detection_scores",
    "evaluate_under_shift",
    "expected_calibration_error",
    "fpr_at_tpr",
    "held_out_class_detection",
    "held_out_classes",
    "mcnemar",
    "mcnemar_in_words",
    "per_class_recall",
    "plot_confusion_matrix",
    "plot_history",
    "plot_mistakes",
    "plot_novelty_scores",
    "plot_reliability",
    "plot_selective_curve",
    "plot_shift_accuracy",
    "recall_change_in_words",
    "seed_summary",
    "selective_accuracy",
    "selective_curve",
    "shift_prediction_count",
    "summarize_fits",
    "temperature_calibration",
]
