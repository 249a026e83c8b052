"""The report's tables: each model's history, confusion matrix and
classification report, and metrics.json (every number of the run)."""

import json

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report

from .._catalog import ORIGINAL
from ..datasets import CLASS_NAMES

__all__ = [
    "metrics",
    "model_numbers",
    "write_metrics",
    "write_model_tables",
    "write_shift_table",
]

ORIGINAL_ACCURACY = {name: m["test_accuracy"] for name, m in ORIGINAL.items()}
HISTORY = ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "dur"]


def _history_frame(fit):
    rows = [{k: record.get(k) for k in HISTORY} for record in fit.pipe[-1].history_]
    frame = pd.DataFrame(rows, columns=HISTORY)
    frame.insert(0, "random_state", fit.seed)
    return frame


def write_model_tables(folder, fits, evaluation, data):
    """history.csv (every seed), confusion_matrix.csv and the classification
    report (.txt and .json) of a model's first fit."""
    pd.concat([_history_frame(f) for f in fits]).to_csv(
        folder / "history.csv", index=False
    )
    cm = np.array(evaluation["confusion_matrix"])
    pd.DataFrame(cm, index=CLASS_NAMES, columns=CLASS_NAMES).to_csv(
        folder / "confusion_matrix.csv", index_label="true \\ predicted"
    )
    kwargs = {
        "labels": np.arange(len(CLASS_NAMES)),
        "target_names": list(CLASS_NAMES),
        "digits": 4,
        "zero_division": 0,
    }
    y_true, y_pred = data.y_test, fits[0].y_pred
    (folder / "classification_report.txt").write_text(
        classification_report(y_true, y_pred, **kwargs)
    )
    report = classification_report(y_true, y_pred, output_dict=True, **kwargs)
    (folder / "classification_report.json").write_text(json.dumps(report, indent=2))


def write_shift_table(path, shift):
    """shift.csv: the accuracy per corruption (rows) and severity (columns)
    on the first test images, and on the mixed set."""
    numbers = shift.numbers
    frame = pd.DataFrame(numbers["accuracy_by_severity"]).T
    frame.columns = [f"severity {c}" for c in frame.columns]
    frame["mixed set"] = pd.Series(numbers["mixed_accuracy_by_corruption"])
    frame.to_csv(path, index_label="corruption", float_format="%.4f")


def model_numbers(name, title, ev):
    """Model ``name``'s numbers, as metrics.json holds them."""
    return {
        "model": title,
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
        "shift": ev["shift"],
        **({"int8": ev["int8"]} if "int8" in ev else {}),
    }


def metrics(run):
    """Every number of the run, as metrics.json holds them."""
    numbers = {
        name: model_numbers(name, run["titles"][name], ev)
        for name, ev in run["evaluations"].items()
    }
    for key in ("comparisons", "time", "environment", "protocol"):
        numbers[key] = run[key]
    return numbers


def write_metrics(folder, run):
    """metrics.json: every number of the run."""
    (folder / "metrics.json").write_text(json.dumps(metrics(run), indent=2) + "\n")
