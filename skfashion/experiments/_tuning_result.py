"""``TuningResult``: what :func:`run_tuning` returns."""

import shutil
import tempfile
from pathlib import Path

from ..utils import move_files_into

__all__ = ["TuningResult"]


class TuningResult:
    """The result of :func:`run_tuning`.

    Attributes
    ----------
    study : optuna.Study
        Every trial.
    model : Pipeline
        ``PixelScaler`` and the classifier with the best parameters, refit
        on all the training images.
    best_params : dict
        Those parameters, as the estimator takes them.
    test_accuracy : float or None
        The refit model's accuracy on the test set, if one was given.
    summary : dict
        The best trial, its cross-validated score and folds, the test
        accuracy, the seconds of the search and the refit.
    settings : dict
        What was tuned, how: model, epochs, cv, seed, budget, trials,
        space.

    Examples
    --------
    >>> from skfashion.experiments import run_tuning
    >>> result = run_tuning("mlp", None, X, y, trials=4)  # doctest: +SKIP
    >>> result.write("tuning")  # doctest: +SKIP
    """

    def __init__(self, study, model, summary, settings, *, started, timer):
        self.study = study
        self.model = model
        self.summary = summary
        self.settings = settings
        self.best_params = summary["best_params"]
        self.test_accuracy = summary["test_accuracy"]
        self._started = started
        self._timer = timer

    def write(self, folder, *, storage=None, space_source=None):
        """Write the tuning report into ``folder``, as ``skfashion tune`` does.

        ``report.md``, ``tuning.json``, ``trials.csv``, ``model.safetensors``
        and the figures (optimization history, parameter importances,
        learning curves), written aside and moved in, ``report.md`` last.
        Other files of ``folder`` (the study's database) stay.

        Parameters
        ----------
        folder : path-like
            Where; made if missing.
        storage : str, default=None
            The study's storage, as the report names it (a file inside
            ``folder`` by its relative path).
        space_source : str, default=None
            Where the search space came from, in words.

        Returns
        -------
        summary : dict
            What ``tuning.json`` holds.
        """
        from ._tuning_files import shown_storage, tuning_summary, write_tuning_report

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        source = space_source or f"the default space of {self.settings['model']}"
        work = Path(tempfile.mkdtemp(prefix=".report-", dir=folder))
        try:
            total = self._timer() - self._started
            summary = tuning_summary(self, shown_storage(storage, folder), total)
            write_tuning_report(work, self, summary, source)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        move_files_into(work, folder)
        return summary

    def __repr__(self):
        return (
            f"<TuningResult of {self.settings['model']}: best trial "
            f"{self.summary['best_trial']}, cv score {self.summary['cv_score']:.4f}>"
        )
