"""``Report``: what :func:`run_report` returns -- the fits and their
numbers as attributes, written as a folder or shown in a notebook."""

import base64
import html
import io
import os
import shutil
import tempfile
from pathlib import Path

from .._catalog import TITLES
from ..utils import move_into_place
from ._figures import (
    recall_figure,
    write_model_figures,
    write_recall_figure,
    write_shift_figures,
)
from ._markdown import markdown, pct, write_markdown
from ._model_files import write_card, write_models
from ._tables import (
    metrics,
    model_numbers,
    write_metrics,
    write_model_tables,
    write_shift_table,
)
from ._timing import format_duration

__all__ = ["INCOMPLETE", "Report"]

#: What the folder of an interrupted run's finished models says of itself.
INCOMPLETE = (
    "This run of skfashion report was interrupted: only the models in "
    "this folder finished. It is not a report.\n"
)


class Report:
    """The result of :func:`run_report`.

    Attributes
    ----------
    config : ReportConfig
        What ran.
    plan : ReportPlan
        Every fit and its estimated cost.
    data : object
        The images and labels the run used (``X``, ``y``, ``X_test``,
        ``y_test``; the first ``n_valid`` training images validate).
    fits : dict of list of FitResult
        Each model's fits, one per seed, in order.
    held_out_fits : dict of list of FitResult
        Each model's fits without some classes, one per split of
        ``config.held_out`` (empty without them).
    evaluations : dict of dict
        Each model's numbers over its seeds (``summary``: mean test
        accuracy, standard deviation, 95 % interval; calibration, recall,
        confused pairs, and ``shift``, with ``held_out_classes`` if the run
        held classes out).
    shifts : dict of ShiftEvaluation
        Each model's first fit under shift, with its novelty detector.
    comparisons : list of dict
        McNemar's test of each pair of models.
    environment : dict
        The machine and libraries.
    time : dict
        ``estimated_seconds`` before training and ``actual_seconds``.
    complete : bool
        False for the part of a run that :class:`ReportInterrupted` carries.
    checkpoints : Path or None
        This run's checkpoint folder.

    Examples
    --------
    >>> from skfashion.experiments import ReportConfig, run_report
    >>> report = run_report(ReportConfig(models="mlp", quick=True))  # doctest: +SKIP
    >>> report.summary()  # doctest: +SKIP
    >>> report.write("report")  # doctest: +SKIP
    """

    def __init__(self, config, plan, data, *, store=None):
        self.config = config
        self.plan = plan
        self.data = data
        self._store = store  # the run's ReportCheckpoints, or None
        self.checkpoints = None if store is None else store.folder
        self.fits = {}
        self.held_out_fits = {}
        self.evaluations = {}
        self.shifts = {}
        self.comparisons = []
        self.environment = {}
        self.titles = dict(TITLES)
        self.time = {}
        self.complete = False

    @property
    def protocol(self):
        """How much data, how many epochs, which random states."""
        data, config = self.data, self.config
        return {
            "n_train": len(data.y) - data.n_valid,
            "n_valid": data.n_valid,
            "n_test": len(data.y_test),
            "epochs": dict(config.model_epochs),
            "random_states": {m: list(s) for m, s in config.random_states.items()},
            "quick": config.quick,
        }

    def _run(self):
        """What the writers take: every number of the run."""
        time = {**self.time}
        time["estimated"] = format_duration(time["estimated_seconds"])
        time["actual"] = format_duration(time["actual_seconds"])
        return {
            "titles": self.titles,
            "evaluations": self.evaluations,
            "comparisons": self.comparisons,
            "environment": self.environment,
            "time": time,
            "protocol": self.protocol,
        }

    @property
    def metrics(self):
        """Every number of the run, as ``metrics.json`` holds them."""
        self._check_complete("metrics")
        return metrics(self._run())

    @property
    def markdown(self):
        """``report.md``'s text."""
        self._check_complete("markdown")
        return markdown(self._run())

    def _check_complete(self, what):
        if not self.complete:
            raise ValueError(
                f"The run was interrupted: it has no {what}, only the models "
                f"that finished ({', '.join(self.evaluations) or 'none'})."
            )

    def summary(self):
        """One row per model: test accuracy over its seeds, validation
        accuracy, calibration and accuracy under shift.

        Returns
        -------
        frame : pandas.DataFrame
        """
        import pandas as pd

        rows = []
        for name, ev in self.evaluations.items():
            s, shift = ev["summary"], ev["shift"]
            rows.append(
                {
                    "model": self.titles[name],
                    "test accuracy": s["mean"],
                    "std": s["std"],
                    "seeds": s["n"],
                    "validation": ev["valid_accuracy"],
                    "ECE": ev["ece"],
                    "mixed Fashion-MNIST-C": shift["mixed_accuracy"],
                    "selective@90": shift["selective_accuracy_90"],
                }
            )
        return pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame()

    def write_model(self, name, folder):
        """Model ``name``'s folder: its tables, its first fit's figures
        (under shift too), model files with their novelty detector and, with
        the ``cards`` extra, its model card (``README.md``)."""
        folder = Path(folder)
        folder.mkdir()
        fits, ev, shift = self.fits[name], self.evaluations[name], self.shifts[name]
        title = self.titles[name]
        write_model_tables(folder, fits, ev, self.data)
        write_shift_table(folder / "shift.csv", shift)
        write_model_figures(folder, title, fits[0], self.data)
        write_shift_figures(folder, title, shift)
        graphs, int8 = write_models(
            folder, fits[0].pipe, self.data, shift.detector, self.config.onnx
        )
        ev.update(int8)  # the int8 graph's accuracy, in metrics.json too
        write_card(folder, model_numbers(name, title, ev), graphs)

    def write(self, folder):
        """Write the report into ``folder``, as ``skfashion report`` does.

        ``report.md``, ``metrics.json``, ``recall.png`` and a folder per
        model (tables, figures, ``model.safetensors`` with its novelty
        detector, ``model.pkl``, the ONNX graphs the config asks for). The
        folder is written aside and moved into place whole: an existing
        ``folder`` is replaced only once everything is written. Of an
        interrupted run, the finished models are written with a file
        ``INCOMPLETE`` and no ``report.md``.

        Parameters
        ----------
        folder : path-like
            Where; made if missing.

        Returns
        -------
        folder : Path
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        work.chmod(0o777 & ~_umask())  # mkdtemp's 0o700: as mkdir would make it
        try:
            for name in self.evaluations:
                self.write_model(name, work / name)
            if self.complete:
                run = self._run()
                write_recall_figure(
                    work / "recall.png", run["titles"], self.evaluations
                )
                write_metrics(work, run)
                write_markdown(work, run)  # last: it says the report is whole
            else:
                (work / "INCOMPLETE").write_text(INCOMPLETE)
            move_into_place(work, folder)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return folder

    def remove_checkpoints(self):
        """Delete this run's checkpoints (and their folder, if empty)."""
        if self._store is not None:
            self._store.remove()

    def __repr__(self):
        state = "" if self.complete else ", interrupted"
        return f"<Report of {', '.join(self.config.models)}{state}>"

    def _repr_html_(self):
        """The results table and the recall figure, for Jupyter."""
        parts = [f"<h4>{html.escape(repr(self))}</h4>"]
        if self.evaluations:
            frame = self.summary()
            parts.append(frame.to_html(float_format=lambda x: pct(x)[:-2] + "%"))
            figure = recall_figure(self.titles, self.evaluations)
            parts.append(_png(figure, "recall of each class"))
        return "\n".join(parts)


def _png(figure, alt):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{alt}" src="data:image/png;base64,{data}"/>'


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
