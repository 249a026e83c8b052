"""What :func:`run_report` and :func:`run_tuning` tell of their progress:
base classes with nothing heavy to import, so that the command line can
subclass them before it needs PyTorch."""

__all__ = ["ReportCallback", "TuningCallback"]


class ReportCallback:
    """Progress of :func:`run_report`: subclass it and override what you need.

    Every method does nothing by default. They are called in this order:
    ``on_run_begin`` once, with the :class:`ReportPlan` (every fit and its
    estimated seconds); for each fit ``on_fit_begin``, ``on_batch_end``
    after each training and validation batch (only when the fits run in
    this process, ``n_jobs=None``) and ``on_fit_end``; after each model's
    last fit ``on_shift_begin`` and ``on_model_end``; and ``on_run_end``
    with the finished :class:`Report`.

    Examples
    --------
    >>> from skfashion.experiments import ReportCallback
    >>> class Fits(ReportCallback):
    ...     def __init__(self):
    ...         self.done = []
    ...     def on_fit_end(self, job, fit):
    ...         self.done.append((job.name, job.seed))
    >>> Fits().done
    []
    """

    def on_run_begin(self, plan):
        """Before training: ``plan`` is the run's :class:`ReportPlan`."""

    def on_fit_begin(self, job):
        """A fit (:class:`Job`) starts, or is taken from the checkpoints."""

    def on_batch_end(self, job):
        """A batch of ``job``'s fit is done."""

    def on_fit_end(self, job, fit):
        """``job``'s fit is done: ``fit`` is its :class:`FitResult`."""

    def on_shift_begin(self, name):
        """Model ``name`` is about to be measured under shift."""

    def on_model_end(self, name, evaluation):
        """Every fit of model ``name`` is done and evaluated."""

    def on_run_end(self, report):
        """The run is done: ``report`` is the :class:`Report`."""


class TuningCallback:
    """Progress of :func:`run_tuning`: subclass it and override what you need.

    ``on_search_begin`` once, with what the search will do and its timed
    estimates (``trial_seconds``, ``refit_seconds``, ``trials_done``);
    ``on_step`` after each fold-epoch of a trial; ``on_trial_end`` after
    each trial; ``on_refit_begin`` with the best trial's parameters.

    Examples
    --------
    >>> from skfashion.experiments import TuningCallback
    >>> class Count(TuningCallback):
    ...     trials = 0
    ...     def on_trial_end(self, study, trial):
    ...         self.trials += 1
    >>> Count().trials
    0
    """

    def on_search_begin(self, study, plan):
        """Before the search: ``plan`` is a dict of its settings and estimates."""

    def on_step(self, study, trial, epoch, fold):
        """A fold of ``trial`` trained ``epoch`` epochs."""

    def on_trial_end(self, study, trial):
        """``trial`` (an Optuna ``FrozenTrial``) finished, was pruned or failed."""

    def on_refit_begin(self, params):
        """The best parameters are about to be refit on all the data."""
