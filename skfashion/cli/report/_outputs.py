"""Everything a report writes, by folder: one model's folder as soon as its
last fit is done, the run's own files at the end. Each writer writes one
kind of file (``_tables.py``, ``_figures.py``, ``_saved_models.py``,
``_markdown.py``), into the run's temporary folder, which ``run`` moves into
place only when everything is written."""

from ._figures import write_model_figures, write_recall_figure, write_shift_figures
from ._markdown import write_markdown
from ._saved_models import write_models
from ._tables import write_metrics, write_model_tables, write_shift_table

__all__ = ["write_model_folder", "write_run_files"]


def write_model_folder(folder, title, fits, evaluation, data, shift, onnx=None):
    """One model's folder: its tables, its first fit's figures (under shift
    too) and model files with their novelty detector (with ``onnx``
    "float32" or "int8", its ONNX graphs too)."""
    folder.mkdir()
    write_model_tables(folder, fits, evaluation, data)
    write_shift_table(folder / "shift.csv", shift)
    write_model_figures(folder, title, fits[0], data)
    write_shift_figures(folder, title, shift)
    write_models(folder, fits[0].pipe, data, shift.detector, onnx=onnx)


def write_run_files(folder, run):
    """The run's recall.png, metrics.json and report.md (written last)."""
    write_recall_figure(folder / "recall.png", run["titles"], run["evaluations"])
    write_metrics(folder, run)
    write_markdown(folder, run)
