"""Experiments: the report's and the tuning's protocols, from Python.

:func:`run_report` runs the 2020 report's protocol as ``skfashion report``
does -- every model and seed trained, evaluated, compared and measured
under shift -- from a :class:`ReportConfig`, resumable from a checkpoint
folder, and returns a :class:`Report` to write (:meth:`Report.write`) or
show in a notebook. :func:`run_tuning` runs a pruned, budgeted Optuna
search, shareable by processes through :func:`open_study`, and returns a
:class:`TuningResult`. Nothing here prints: progress and interruption come
in as callbacks (:class:`ReportCallback`, :class:`TuningCallback`,
``should_stop``), as the command line passes its progress bars and its
signal handling in.

The names are imported when first used, so that the command line's
``--help`` does not wait for PyTorch.
"""

from .._lazy import attach

_MODULES = {
    "FashionData": "._builder",
    "FitResult": "._protocol",
    "Job": "._plan",
    "N_VALID": "._report_config",
    "QUICK": "._report_config",
    "Report": "._report",
    "ReportCallback": "._callbacks",
    "ReportCheckpoints": "._checkpoints",
    "ReportConfig": "._report_config",
    "ReportInterrupted": "._run_report",
    "ReportPlan": "._plan",
    "RunBuilder": "._builder",
    "TuningCallback": "._callbacks",
    "TuningError": "._tuning",
    "TuningResult": "._tuning_result",
    "best_trial": "._trials",
    "check_space": "._tuning",
    "check_tuning": "._tuning",
    "describe_model": "._messages",
    "describe_search": "._messages",
    "describe_trials": "._messages",
    "format_duration": "._timing",
    "open_study": "._study",
    "parse_duration": "._timing",
    "run_report": "._run_report",
    "run_tuning": "._tuning",
    "study_settings": "._tuning",
    "time_batches": "._timing",
    "trial_counts": "._trials",
    "trial_score": "._trials",
}

__all__ = sorted(_MODULES)

__getattr__, __dir__ = attach(__name__, _MODULES)
