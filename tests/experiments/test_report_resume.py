"""The report's checkpoints as a library: should_stop, interruption,
resume at every point, parallel fits -- through the API, in this process,
on the quick data with small shift sets (the quick run's own tests are in
test_run_report.py)."""

import json

import numpy as np
import pytest
from report_runs import fixed_threads, lighten

from skfashion.evaluation import held_out_class_detection
from skfashion.experiments import (
    Report,
    ReportCallback,
    ReportCheckpoints,
    ReportConfig,
    ReportInterrupted,
    _protocol,
    _run_report,
    run_report,
)


class _StopAfter(ReportCallback):
    """Asks the run to stop after ``batches`` batches; records the plan."""

    def __init__(self, batches=None):
        self.batches, self.seen, self.plans = batches, 0, []

    def on_run_begin(self, plan):
        self.plans.append(plan)

    def on_batch_end(self, job):
        self.seen += 1

    def __call__(self):
        return self.batches is not None and self.seen >= self.batches


def test_should_stop_then_resume(fashion_train, tmp_path, monkeypatch):
    """should_stop ends the run at the next batch with ReportInterrupted;
    the checkpoints keep the epochs done, and a run of the same settings
    trains only the rest, to the numbers of a run never interrupted."""
    fixed_threads(monkeypatch)
    lighten(monkeypatch)
    config = ReportConfig(models="mlp", epochs=3, quick=True)
    folder = tmp_path / "ckpt"
    batches = (
        _protocol.plan(
            config, _protocol.load(config), ReportCheckpoints(folder, config.settings())
        )
        .jobs[0]
        .epoch_batches
    )
    stop = _StopAfter(batches + 2)  # in the second epoch
    with pytest.raises(ReportInterrupted) as info:
        run_report(config, checkpoints=folder, callbacks=[stop], should_stop=stop)
    assert not info.value.report.complete and info.value.report.evaluations == {}
    assert isinstance(info.value, KeyboardInterrupt)
    assert len(list(folder.glob("*/*/*.pt"))) == 1
    store = ReportCheckpoints(folder, config.settings())
    assert store.reusable() == ([], [("mlp", 0, 1)])  # one epoch of three
    assert store.describe_reuse() == (
        f"Resuming from {store.folder}: reusing the checkpoints of mlp seed 0 "
        "(1 of 3 epochs)."
    )
    with pytest.raises(ValueError, match="interrupted"):
        _ = info.value.report.metrics
    resumed = _StopAfter()
    report = run_report(config, checkpoints=folder, callbacks=[resumed])
    (plan,) = resumed.plans
    (job,) = plan.jobs
    assert job.done_epochs == 1 and plan.batches_done_before == job.epoch_batches
    assert job.batches == 2 * job.epoch_batches == resumed.seen
    assert report.fits["mlp"][0].numbers["epochs"] == 3
    assert store.reusable() == ([("mlp", 0)], [])
    assert store.describe_reuse().endswith("reusing 1 finished fit(s): mlp seed 0.")
    # finished: the next run takes the fit whole and trains nothing
    again = _StopAfter()
    assert run_report(config, checkpoints=folder, callbacks=[again]).complete
    assert again.seen == 0 and again.plans[0].estimate == 0
    report.remove_checkpoints()
    assert not folder.exists()
    straight = run_report(config)
    assert (
        straight.evaluations["mlp"]["summary"]["mean"]
        == report.evaluations["mlp"]["summary"]["mean"]
    )


def test_interrupted_run_carries_the_finished_models(
    fashion_train, tmp_path, interrupt_fits, monkeypatch
):
    """Stopped while the second model trains: the exception's Report holds
    the first, and writes it marked INCOMPLETE, without report.md."""
    lighten(monkeypatch)
    interrupt_fits("fast")
    config = ReportConfig(models=("mlp", "fast"), quick=True)
    with pytest.raises(ReportInterrupted) as info:
        run_report(config)
    partial = info.value.report
    assert list(partial.evaluations) == ["mlp"] and not partial.complete
    # its figures and table name the model by its title, as a whole run's
    assert list(partial.summary().index) == ["Dense network (FashionMLP)"]
    out = partial.write(tmp_path / "partial")
    assert sorted(p.name for p in out.iterdir()) == ["INCOMPLETE", "mlp"]
    assert (out / "mlp" / "model.safetensors").exists()


def _results(report):
    """A report's metrics, as metrics.json holds them (Report.write writes
    ``report.metrics``: test_run_report.py checks it), without what depends
    on the clock."""
    metrics = json.loads(json.dumps(report.metrics))
    metrics.pop("time")
    for name in report.config.models:
        for key in ("train_seconds", "predict_seconds"):
            metrics[name].pop(key)
            for run in metrics[name]["runs"]:
                run.pop(key)
    return metrics


RESUME = ReportConfig(models=("mlp", "fast"), seeds={"mlp": 2}, quick=True)


@pytest.fixture(scope="module")
def straight_report(fashion_train):
    with pytest.MonkeyPatch.context() as monkeypatch:
        fixed_threads(monkeypatch)
        lighten(monkeypatch)
        return _results(run_report(RESUME))


@pytest.mark.parametrize("where", ["between seeds", "between models", "writing"])
def test_resume_reuses_every_finished_fit(
    straight_report, tmp_path, monkeypatch, where
):
    """Interrupted between the seeds of a model, between models or while
    the report is written, a run with the same checkpoints trains only what
    did not finish -- twice in a row -- and gives the numbers of an
    uninterrupted run (what Report.write writes of them is tested on the
    quick run)."""
    fixed_threads(monkeypatch)
    lighten(monkeypatch)
    out, folder = tmp_path / "report", tmp_path / "report.checkpoints"
    trained, real_fit, real_write = [], _run_report._fit_here, Report.write
    stop_at = {"between seeds": ("mlp", 1), "between models": ("fast", 0)}.get(where)

    def fit(job, *args):
        if (job.name, job.seed) == stop_at:
            raise KeyboardInterrupt
        trained.append((job.name, job.seed))
        return real_fit(job, *args)

    def write(self, folder):
        if where == "writing":
            raise KeyboardInterrupt
        return real_write(self, folder)

    monkeypatch.setattr(_run_report, "_fit_here", fit)
    monkeypatch.setattr(Report, "write", write)
    for _ in range(2):  # again, at the same point
        with pytest.raises(KeyboardInterrupt):
            run_report(RESUME, checkpoints=folder).write(out)
    assert not out.exists()
    first = list(trained)
    stop_at, where, trained[:] = None, None, []
    report = run_report(RESUME, checkpoints=folder)
    report.remove_checkpoints()
    jobs = [("mlp", 0), ("mlp", 1), ("fast", 0)]
    # each fit trained once in all, the finished ones never again
    assert sorted(first + trained) == sorted(jobs)
    assert _results(report) == straight_report
    assert not folder.exists()


def test_parallel_fits_match_the_sequential_ones(fashion_train, tmp_path, monkeypatch):
    """n_jobs=2: the fits train in joblib's worker processes, are kept in
    the checkpoints and give the report of a run in this process (the same
    seeds and epochs; labels nearly the same: another process may use
    another number of threads, and so round otherwise -- in float32 on every
    CPU, so that bfloat16's coarser rounding does not add to it)."""
    lighten(monkeypatch)
    config = ReportConfig(models="mlp", seeds=2, quick=True, precision="float32")
    here, there = _StopAfter(), _StopAfter()
    sequential = run_report(config, callbacks=[here])
    parallel = run_report(
        ReportConfig(models="mlp", seeds=2, quick=True, precision="float32", n_jobs=2),
        checkpoints=tmp_path / "ckpt",
        callbacks=[there],
    )
    # no batch ran in this process: the workers trained both fits
    assert here.seen == here.plans[0].total_batches > 0 and there.seen == 0
    assert len(list((tmp_path / "ckpt").glob("*/*/numbers.json"))) == 2
    for a, b in zip(sequential.fits["mlp"], parallel.fits["mlp"], strict=True):
        assert a.seed == b.seed and a.numbers["epochs"] == b.numbers["epochs"]
        assert np.mean(a.y_pred == b.y_pred) >= 0.95


def test_held_out_fits_train_without_their_classes_and_resume(
    fashion_train, tmp_path, monkeypatch
):
    """held_out: a fit per split trains, validates and is tested without
    its classes; each detector's numbers are held_out_class_detection's on
    that fit and the right images; the fit is kept in its own checkpoint
    folder, an interrupted one resumes, and a finished one is never
    trained again."""
    fixed_threads(monkeypatch)
    lighten(monkeypatch)
    config = ReportConfig(models="mlp", epochs=2, quick=True, held_out=[(6, 5)])
    folder = tmp_path / "ckpt"
    trained, real_fit = [], _run_report._fit_here

    def fit(job, *args):
        trained.append((job.seed, job.held_out))
        return real_fit(job, *args)

    monkeypatch.setattr(_run_report, "_fit_here", fit)
    plan = _protocol.plan(
        config, _protocol.load(config), ReportCheckpoints(folder, config.settings())
    )
    main, without = plan.jobs
    assert (main.held_out, without.held_out) == ((), (6, 5))
    assert without.seed == main.seed and without.train_batches < main.train_batches
    stop = _StopAfter(main.batches + without.epoch_batches + 1)  # its 2nd epoch
    with pytest.raises(ReportInterrupted):
        run_report(config, checkpoints=folder, callbacks=[stop], should_stop=stop)
    store = ReportCheckpoints(folder, config.settings())
    assert store.reusable() == ([("mlp", 0)], [("mlp without 6, 5", 0, 1)])
    assert "mlp without 6, 5 seed 0 (1 of 2 epochs)" in store.describe_reuse()
    assert (store.folder / "mlp-seed0-without-6-5").is_dir()
    trained[:] = []
    report = run_report(config, checkpoints=folder)
    assert trained == [(0, (6, 5))]  # the rest of the held-out fit only

    (fit,) = report.held_out_fits["mlp"]
    learned_classes = [c for c in range(10) if c not in (6, 5)]
    assert fit.pipe.classes_.tolist() == learned_classes
    assert report.fits["mlp"][0].pipe.classes_.tolist() == list(range(10))
    data, out = report.data, np.isin(report.data.y_test, [6, 5])
    learned = data.without((6, 5))
    assert len(fit.proba) == (~out).sum() == len(learned.y_test)
    assert fit.numbers["epochs"] == 2
    X_valid, y_valid = learned.valid
    assert len(y_valid) == (~np.isin(data.y[: data.n_valid], [6, 5])).sum()
    numbers = report.metrics["mlp"]["shift"]["held_out_classes"]
    (split,) = numbers["splits"]
    assert split["held_out"] == [6, 5] and split["classes"] == ["Shirt", "Sandal"]
    assert (split["n_in"], split["n_held_out"]) == ((~out).sum(), out.sum())
    expected = held_out_class_detection(
        fit.pipe, X_valid, y_valid, learned.X_test, data.X_test[out]
    )
    assert list(split["detectors"]) == list(expected)
    for method, scores in expected.items():
        assert split["detectors"][method] == pytest.approx(scores, rel=1e-9)
        assert numbers["mean"][method] == pytest.approx(scores, rel=1e-9)
    assert "| Shirt, Sandal |" in report.markdown

    trained[:] = []  # finished: nothing trains again, the numbers are the same
    again = run_report(config, checkpoints=folder)
    assert trained == [] and _results(again) == _results(report)
    report.remove_checkpoints()
