"""``skfashion tune``: a pruned Optuna search, its report, its study kept
across interruptions and shared by processes; and Dask running trials."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from cases import blobs, make

from skfashion.cli import main

optuna = pytest.importorskip("optuna")
pytest.importorskip("optuna_integration")

from optuna.trial import TrialState  # noqa: E402

from skfashion.tuning import PrunedCV, distributions, read_space  # noqa: E402

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _study(out, name="skfashion-mlp"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{out}/study.db")


def _tune(out, *argv):
    return main(["tune", "--quick", "--out", str(out), *argv])


@pytest.fixture(scope="module")
def quick_tuning(fashion_train, tmp_path_factory):
    out = tmp_path_factory.mktemp("tuning")
    assert _tune(out, "--trials", "5") == 0
    return out


def test_quick_tuning_writes_report_and_study(quick_tuning, fashion_test):
    from skfashion import load_model

    out = quick_tuning
    names = {p.name for p in out.iterdir()}
    assert {
        "report.md",
        "tuning.json",
        "trials.csv",
        "model.safetensors",
        "history.png",
        "learning_curves.png",
        "study.db",
    } <= names
    assert not [n for n in names if n.startswith(".")]  # no temporary folder left
    # the report names its files relative to itself: it can move
    for name in ("report.md", "tuning.json"):
        assert str(out) not in (out / name).read_text(), name
    summary = json.loads((out / "tuning.json").read_text())
    assert summary["settings"]["storage"] == "sqlite:///study.db"
    study = _study(out)
    trials = study.get_trials(states=FINISHED)
    assert (
        len(trials)
        == 5
        == summary["trials"]["complete"] + summary["trials"].get("pruned", 0)
    )
    best = max(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    assert summary["best_trial"] == best.number
    assert summary["cv_score"] == pytest.approx(best.value)
    # a complete trial trained max_epochs epochs; pruned ones fewer
    for t in trials:
        epochs = len(t.intermediate_values)
        assert epochs == (2 if t.state == TrialState.COMPLETE else 1)
    assert summary["trials"]["fold_epochs"] == 3 * sum(
        len(t.intermediate_values) for t in trials
    )
    # the refit model is the best parameters', trained max_epochs epochs
    model = load_model(out / "model.safetensors")
    net = model[-1]
    assert len(net.history_) == 2
    for name, value in summary["best_params"].items():
        got = net.get_params()[name]
        assert (list(got) if isinstance(got, tuple) else got) == value
    X, y = fashion_test.data[:300], fashion_test.target[:300]
    assert model.score(X, y) == pytest.approx(summary["test_accuracy"])
    report = (out / "report.md").read_text()
    assert f"{100 * summary['test_accuracy']:.2f} %" in report
    assert "AMD" in report or "Intel" in report or "cpu" in report.lower()
    csv = (out / "trials.csv").read_text().splitlines()
    assert len(csv) == 1 + 5


def test_existing_study_needs_resume_then_continues(quick_tuning, capsys):
    out = quick_tuning
    before = {t.number: (t.params, t.state, t.value) for t in _study(out).trials}
    assert _tune(out, "--trials", "7") == 2
    assert "--resume" in capsys.readouterr().err
    assert _tune(out, "--trials", "7", "--resume") == 0
    after = _study(out).trials
    assert len([t for t in after if t.state in FINISHED]) == 7
    # no finished trial lost or run again
    assert {t.number: (t.params, t.state, t.value) for t in after[:5]} == before


def test_study_refuses_other_settings(quick_tuning, capsys):
    assert _tune(quick_tuning, "--resume", "--epochs", "3") == 2
    assert "other settings" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--budget", "15"], "units"),
        (["--budget", "0s"], "positive"),
        (["--trials", "0"], "--trials"),
        (["--cv", "1"], "--cv"),
        (["--epochs", "0"], "--epochs"),
        (["--device", "cuda:7"], "--device"),
        (["--space", "nope.json"], "--space"),
        (["--storage", "nosuchdb://host/db"], "--storage"),
    ],
)
def test_bad_arguments_exit_2(argv, message, tmp_path, capsys):
    assert _tune(tmp_path / "t", *argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_budget_too_short_for_a_trial(fashion_train, tmp_path, capsys):
    assert _tune(tmp_path / "t", "--budget", "2s") == 1
    err = capsys.readouterr().err
    assert "--budget" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "t" / "report.md").exists()


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_space_files(suffix, tmp_path, fashion_train):
    path = tmp_path / f"space{suffix}"
    if suffix == ".json":
        path.write_text(
            json.dumps(
                {
                    "lr": {"low": 1e-3, "high": 1e-2, "log": True},
                    "hidden_units": {"choices": [[32], [64, 32]]},
                }
            )
        )
    else:
        path.write_text(
            "[lr]\nlow = 1e-3\nhigh = 1e-2\nlog = true\n\n"
            "[hidden_units]\nchoices = [[32], [64, 32]]\n"
        )
    out = tmp_path / "t"
    assert _tune(out, "--trials", "2", "--space", str(path)) == 0
    for t in _study(out).trials:
        assert set(t.params) == {"lr", "hidden_units"}
        assert t.params["hidden_units"] in ("32", "64-32")
        assert 1e-3 <= t.params["lr"] <= 1e-2


@pytest.mark.parametrize(
    "space, message",
    [
        ({"lr": {"low": 1, "high": 0}}, "'low' <= 'high'"),
        ({"lr": {"choices": []}}, "non-empty"),
        ({"lr": [1, 2]}, "mapping"),
        ({"lr": {"low": 0, "high": 1, "log": True}}, "lr"),
        ({}, "non-empty"),
    ],
)
def test_bad_spaces(space, message):
    with pytest.raises(ValueError, match=message):
        distributions(space)


def test_space_of_unknown_parameter(tmp_path, capsys):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"learning_rate": {"low": 0.1, "high": 0.2}}))
    assert _tune(tmp_path / "t", "--space", str(path)) == 2
    assert "learning_rate" in capsys.readouterr().err
    path.write_text("{not json")
    assert _tune(tmp_path / "t", "--space", str(path)) == 2
    err = capsys.readouterr().err
    assert "not a valid search space file" in err and str(path) in err
    with pytest.raises(ValueError, match="space.json: not a valid search space"):
        read_space(path)


def test_budget_bounds_the_whole_run(fashion_train, tmp_path):
    # no --trials: trials start until the budget (minus the refit's and
    # the report's 15 s) is spent; the run ends about on time. 30 s leaves
    # the search ~13 s: two trials or more on an idle AVX2-only CPU, where a
    # trial takes ~2.5 s, but one on a loaded one (so at least one here;
    # that trials go on while the budget lasts is
    # test_budget_keeps_starting_trials_while_it_lasts, on an injected clock)
    out = tmp_path / "t"
    start = time.monotonic()
    assert _tune(out, "--budget", "30s") == 0
    elapsed = time.monotonic() - start
    summary = json.loads((out / "tuning.json").read_text())
    assert summary["trials"]["complete"] + summary["trials"].get("pruned", 0) >= 1
    assert summary["total_seconds"] <= 30 + 5  # one quick epoch of slack
    assert elapsed < 30 + 30  # plus the data loading and imports


def _popen(out, *argv):
    return subprocess.Popen(
        [sys.executable, "-m", "skfashion.cli", "tune", "--quick", "--out", str(out)]
        + list(argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_keeps_the_study_and_resume_finishes_it(fashion_train, tmp_path):
    out = tmp_path / "t"
    # a quick run of 8 epochs a trial (3 folds of 667 images, about 0.3 s an
    # epoch of a fold on an idle AVX2-only CPU): a signal sent once the
    # first epoch is reported lands inside the first trial, which has 7 to
    # go, some 6 s, against the well under a second the signal takes to be
    # seen (what a killed process leaves is tested on open_study, without
    # processes)
    proc = _popen(out, "--trials", "6", "--epochs", "8")
    try:
        _wait_inside_first_trial(proc, out)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "SIGTERM" in err and "--resume" in err
    assert not (out / "report.md").exists()
    interrupted = _study(out).trials
    assert [t.state for t in interrupted] == [TrialState.FAIL]
    # resume: the cut trial is tried again with its parameters, none is lost
    assert _tune(out, "--trials", "1", "--epochs", "8", "--resume") == 0
    trials = _study(out).trials
    retry = [t for t in trials if t.user_attrs.get("retry_of") == 0]
    assert len(retry) == 1 and retry[0].params == interrupted[0].params
    assert (out / "report.md").exists()


def _wait_inside_first_trial(proc, out):
    deadline = time.monotonic() + 240
    db = out / "study.db"
    while True:
        assert proc.poll() is None and time.monotonic() < deadline
        try:
            trials = _study(out).trials if db.exists() else []
        except KeyError:  # the file is there, the study not yet
            trials = []
        if trials and trials[0].intermediate_values:
            return  # inside the first trial
        time.sleep(0.2)


def test_two_processes_share_one_study(fashion_train, tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    argv = ("--trials", "4", "--storage", storage, "--study", "shared", "--resume")
    procs = [_popen(tmp_path / f"out{i}", *argv) for i in range(2)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.trials
    # every trial recorded once, finished; at most one more than the budget
    # (a trial each process had started when the other reached it)
    assert [t.number for t in trials] == list(range(len(trials)))
    assert all(t.state in FINISHED for t in trials)
    assert 4 <= len(trials) <= 5
    # both processes ran trials
    assert len({t.datetime_start for t in trials}) == len(trials)
    best = max(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    # the process whose trial finished last chose its best among them all
    # (the other may have chosen before that trial ended, then refitted
    # longer: the longer run is not always the later choice)
    summaries = [
        json.loads((tmp_path / f"out{i}" / "tuning.json").read_text()) for i in (0, 1)
    ]
    assert best.number in {s["best_trial"] for s in summaries}


def test_pruned_cv_reports_every_epoch():
    X, y = blobs(n_per_class=20)
    study = optuna.create_study(direction="maximize")
    objective = PrunedCV(
        make("mlp", max_epochs=3), {"lr": {"choices": [1e-2]}}, X, y, cv=2
    )
    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert sorted(trial.intermediate_values) == [1, 2, 3]
    assert trial.user_attrs["fold_epochs"] == 6
    # the last report is the score of a model fit() trains for max_epochs
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    scores = cross_val_score(
        make("mlp", max_epochs=3, lr=1e-2), X, y, cv=StratifiedKFold(2)
    )
    assert trial.value == pytest.approx(scores.mean(), abs=1e-12)


def _optimize_in_worker(study, n_trials):
    """Run trials of the shared study in a Dask worker; return its process."""
    import os

    X, y = blobs(n_per_class=20)
    space = {"lr": {"low": 1e-3, "high": 3e-2, "log": True}}
    study.optimize(PrunedCV(make("mlp", max_epochs=2), space, X, y, cv=2), n_trials)
    return os.getpid()


@pytest.mark.slow
def test_dask_cluster_runs_the_trials(client):
    """Trials of one study run in the workers of the client fixture
    (conftest.py: a LocalCluster of two one-thread workers)."""
    from optuna_integration import DaskStorage

    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        storage = DaskStorage(client=client)
    study = optuna.create_study(direction="maximize", storage=storage)
    futures = [
        client.submit(_optimize_in_worker, study, 3, pure=False) for _ in range(2)
    ]
    pids = client.gather(futures)
    trials = study.trials
    assert len(set(pids)) == 2  # both workers ran trials of the one study
    assert [t.number for t in trials] == list(range(6))
    assert all(t.state in FINISHED for t in trials)
    assert np.isfinite(study.best_value)
