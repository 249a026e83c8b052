"""Reports that train what a test checks and no more: helpers for the
tests of the report's resume, interruption and command, which patch a
run through pytest's ``monkeypatch``."""

#: small convolutional networks: what trains matters to these tests, not how
#: well (the quick run's tests keep the report's own models)
SMALL = {
    "cnn": {"filters": (4, 8, 8), "dense_units": (8, 8)},
    "fast": {"widths": (4, 8, 8)},
}


def lighten(monkeypatch):
    """Skip the plan's timing of each model on a few batches (three short
    real fits a model): fixed seconds instead; measure under shift on a few
    images (the quick run's 1,500 corrupted, 300 test and 100 of each
    stranger set, for each detector); and train small convolutional
    networks (:data:`SMALL`) in this process: for the tests of what trains
    and what resumes, not of the estimate, the shift or the models (which
    the quick run's tests check)."""
    from skfashion.experiments import RunBuilder, _protocol

    monkeypatch.setattr(RunBuilder, "time", lambda *args, **kwargs: (0.01, 0.1, 1e-3))
    tiny = {"n_per_severity": 2, "n_in": 50, "n_out": 20}
    monkeypatch.setattr(_protocol, "QUICK_SHIFT", tiny)
    pipeline = RunBuilder.pipeline
    monkeypatch.setattr(
        RunBuilder,
        "pipeline",
        lambda self, name, **params: pipeline(
            self, name, **{**SMALL.get(name, {}), **params}
        ),
    )


def fixed_threads(monkeypatch):
    """Train on a fixed number of threads, so that two fits of the same
    settings in this process compute the same, bit for bit, whatever else
    the machine does (AdaptiveThreads would follow the load)."""
    from skfashion.callbacks import AdaptiveThreads

    monkeypatch.setattr(AdaptiveThreads, "on_train_begin", lambda *a, **k: None)
    monkeypatch.setattr(AdaptiveThreads, "on_batch_end", lambda *a, **k: None)
    monkeypatch.setattr(AdaptiveThreads, "on_train_end", lambda *a, **k: None)
