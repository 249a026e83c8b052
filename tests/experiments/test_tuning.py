"""The tuning as a library: ``run_tuning`` on tiny data, its budget on an
injected clock (nothing waits), interruption, ``open_study``'s rules, and
what ``TuningResult.write`` writes."""

import json

import pytest
from cases import NAMES, blobs, make

optuna = pytest.importorskip("optuna")

from optuna.trial import TrialState  # noqa: E402

from skfashion import FashionMLP  # noqa: E402
from skfashion.experiments import (  # noqa: E402
    TuningCallback,
    TuningError,
    TuningResult,
    check_space,
    check_tuning,
    describe_search,
    describe_trials,
    open_study,
    run_tuning,
)

SPACE = {"lr": {"low": 1e-3, "high": 3e-2, "log": True}}
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _mlp():
    return FashionMLP(hidden_units=(16,), precision="float32", verbose=0)


@pytest.fixture(scope="module")
def data():
    X, y = blobs(n_per_class=30)
    return X * 255, y  # raw pixels: the tuning scales them


class _Log(TuningCallback):
    def __init__(self):
        self.plans, self.steps, self.ended, self.refits = [], 0, [], []

    def on_search_begin(self, study, plan):
        self.plans.append(plan)

    def on_step(self, study, trial, epoch, fold):
        self.steps += 1

    def on_trial_end(self, study, trial):
        self.ended.append(trial.number)

    def on_refit_begin(self, params):
        self.refits.append(params)


def test_run_tuning_searches_refits_and_writes(data, tmp_path):
    X, y = data
    log = _Log()
    result = run_tuning(
        _mlp(),
        SPACE,
        X,
        y,
        X_test=X,
        y_test=y,
        trials=3,
        cv=2,
        epochs=2,
        callbacks=[log],
    )
    assert isinstance(result, TuningResult)
    assert len(result.study.get_trials(states=FINISHED)) == 3 == len(log.ended)
    assert log.steps >= 3 * 2  # a fold-epoch at least per trial and fold
    assert log.refits == [result.best_params]
    assert 1e-3 <= result.best_params["lr"] <= 3e-2
    net = result.model[-1]
    assert net.lr == result.best_params["lr"] and len(net.history_) == 2
    assert result.test_accuracy == pytest.approx(result.model.score(X, y))
    (plan,) = log.plans
    assert plan["model"] == "mlp" and plan["trial_seconds"] > 0
    what, cost = describe_search(plan, study_name="s", storage="memory")
    assert what.startswith(f"Tuning mlp on {len(y)} images: 2-fold") and (
        what.endswith("3 trials; study 's' in memory.")
    )
    assert "3 trials take at most" in cost
    counts = describe_trials(result.study)
    best = 100 * max(t.value for t in result.study.get_trials(states=FINISHED[:1]))
    assert counts.endswith(f" pruned, 0 running, best {best:.2f} %")
    summary = result.write(tmp_path / "out")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"report.md", "tuning.json", "trials.csv", "model.safetensors"} <= names
    assert json.loads((tmp_path / "out" / "tuning.json").read_text()) == json.loads(
        json.dumps(summary, default=str)
    )
    assert summary["settings"]["storage"] == "memory"


def _tune_on_a_clock(data, seconds_a_trial, epochs):
    """run_tuning with a 10-minute budget on an injected clock that moves
    only when a trial ends, by ``seconds_a_trial``."""
    X, y = data
    now = [0.0]

    class Tick(TuningCallback):
        def on_trial_end(self, study, trial):
            now[0] += seconds_a_trial

    return run_tuning(
        _mlp(),
        SPACE,
        X,
        y,
        budget="10m",
        cv=2,
        epochs=epochs,
        callbacks=[Tick()],
        timer=lambda: now[0],
    )


def test_budget_on_an_injected_clock(data):
    """No trials given: the search stops when the budget, less the refit's
    and the report's share, is spent -- here after the first trial, when
    the clock jumps -- and the refit still runs."""
    result = _tune_on_a_clock(data, 1000.0, epochs=2)
    assert len(result.study.get_trials(states=FINISHED)) == 1
    assert result.summary["search_seconds"] == 1000.0
    assert result.settings["budget_seconds"] == 600.0


def test_budget_keeps_starting_trials_while_it_lasts(data):
    """No trials given: while the budget lasts, trial after trial starts
    (each here 100 s on the injected clock, against a 10-minute budget)."""
    result = _tune_on_a_clock(data, 100.0, epochs=1)
    n = len(result.study.get_trials(states=FINISHED))
    assert 2 <= n <= 6  # 600 s, less the refit's and report's share
    assert result.summary["search_seconds"] == 100.0 * n


def test_spent_budget_trains_nothing_and_says_so(data):
    X, y = data
    with pytest.raises(TuningError, match="budget"):
        run_tuning(
            _mlp(),
            SPACE,
            X,
            y,
            budget=10,
            cv=2,
            epochs=2,
            started=-100.0,
            timer=lambda: 0.0,
        )


def test_should_stop_fails_the_trial_for_a_resume(data):
    X, y = data
    study = optuna.create_study(direction="maximize")
    with pytest.raises(KeyboardInterrupt):
        run_tuning(
            _mlp(),
            SPACE,
            X,
            y,
            study=study,
            trials=3,
            cv=2,
            epochs=3,
            should_stop=lambda: True,
        )
    assert [t.state for t in study.trials] == [TrialState.FAIL]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"cv": 1}, ValueError, "cv must be at least 2"),
        ({"trials": 0}, ValueError, "trials must be at least 1"),
        ({"epochs": 0}, ValueError, "epochs must be at least 1"),
        ({"budget": "soon"}, ValueError, "budget must be a duration"),
        ({"budget": -1}, ValueError, "budget must be positive"),
        (
            {"space": {"learning_rate": {"low": 0.1, "high": 0.2}}},
            ValueError,
            "learning_rate",
        ),
        ({"space": {"max_epochs": {"low": 1, "high": 2}}}, ValueError, "max_epochs"),
        ({"estimator": "gan"}, ValueError, "Unknown model 'gan'"),
        ({"estimator": object()}, TypeError, "skfashion classifier"),
    ],
)
def test_bad_settings_are_refused_before_training(data, kwargs, error, message):
    """run_tuning refuses them, and check_tuning as it does, with no data."""
    X, y = data
    kwargs = {"estimator": _mlp(), "space": SPACE, **kwargs}
    with pytest.raises(error, match=message):
        check_tuning(**kwargs)
    with pytest.raises(error, match=message):
        run_tuning(kwargs.pop("estimator"), kwargs.pop("space"), X, y, **kwargs)


def test_check_tuning_parses_the_budget_and_the_plan_says_it():
    assert check_tuning(_mlp(), SPACE, budget="1m30s") == 90.0
    assert check_tuning("mlp", trials=5) is None
    plan = {"model": "mlp", "n_train": 900, "cv": 3, "epochs": 4, "trials": None}
    plan |= {"budget_seconds": 120.0, "trials_done": 2}
    plan |= {"trial_seconds": 40.0, "refit_seconds": 20.0}
    what, cost = describe_search(plan)
    assert what.endswith("a budget of 2 min (2 trials done before).")
    assert "a pruned one from about 10 s" in cost
    assert "The whole run ends within 2 min (timed on this machine: " in cost


@pytest.mark.parametrize("name", NAMES)
def test_every_classifier_is_tuned_and_refit_after_a_scaler(name, data):
    """Each public classifier (by name or as an estimator with its own
    settings) is tuned and refit in a Pipeline after a PixelScaler; a
    pipeline given instead is refused by name."""
    X, y = data
    space = {"batch_size": {"choices": [8, 16]}}
    result = run_tuning(make(name), space, X, y, trials=2, cv=2, epochs=1)
    assert [type(step).__name__ for step in result.model] == [
        "PixelScaler",
        type(make(name)).__name__,
    ]
    assert result.settings["model"] == name
    assert result.model[-1].batch_size == result.best_params["batch_size"]
    assert result.model[-1].get_params()["lr"] == make(name).lr  # its own
    with pytest.raises(TypeError, match="Pipeline"):
        run_tuning(make(name, pipeline=True), space, X, y, trials=1)


def test_check_space_names_the_parameter():
    check_space(_mlp(), SPACE)
    with pytest.raises(ValueError, match="non-empty"):
        check_space(_mlp(), {})


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_open_study_rules(tmp_path, kind):
    storage = (
        f"sqlite:///{tmp_path / 'study.db'}"
        if kind == "sqlite"
        else str(tmp_path / "journal.log")
    )
    settings = {"model": "mlp", "epochs": 2, "cv": 2}
    study = open_study(storage, "s", settings=settings)
    study.enqueue_trial({"lr": 0.01})
    trial = study.ask()
    study.tell(trial, state=TrialState.FAIL)  # cut short
    with pytest.raises(FileExistsError, match="resume=True"):
        open_study(storage, "s", settings=settings)
    with pytest.raises(ValueError, match="other settings"):
        open_study(storage, "s", settings={**settings, "epochs": 3}, resume=True)
    again = open_study(storage, "s", settings=settings, resume=True)
    waiting = again.get_trials(states=(TrialState.WAITING,))
    assert [t.user_attrs["retry_of"] for t in waiting] == [0]  # tried again once
    assert (
        open_study(storage, "s", settings=settings, resume=True).get_trials(
            states=(TrialState.WAITING,)
        )
        == waiting
    )


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_trials_of_a_killed_process_are_failed_and_retried(data, tmp_path):
    """A trial left RUNNING by a process that was killed (SIGKILL leaves it
    no chance to clean up) is failed when the study is opened again, and its
    parameters are tried once more by ``run_tuning``; a trial of a process
    that still runs is left alone."""
    import signal
    import subprocess

    from skfashion.experiments import _study

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    settings = {"model": "mlp"}
    study = open_study(storage, "s", settings=settings)
    victim = subprocess.Popen(["sleep", "60"])
    try:
        tokens = [_study._process_token(victim.pid), _study._process_token()]
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    for lr, token in zip((0.002, 0.02), tokens, strict=True):
        study.enqueue_trial({"lr": lr})
        trial = study.ask()  # as run_tuning's objective starts it
        trial.suggest_float("lr", **SPACE["lr"])
        trial.set_user_attr("process", token)  # and left running
    study = open_study(storage, "s", settings=settings, resume=True)
    killed, alive = study.trials[:2]
    assert killed.params == {"lr": 0.002}
    assert [killed.state, alive.state] == [TrialState.FAIL, TrialState.RUNNING]
    (waiting,) = study.get_trials(states=(TrialState.WAITING,))
    assert waiting.user_attrs["retry_of"] == 0
    assert waiting.system_attrs["fixed_params"] == killed.params  # queued
    # a pid reused by another process is not the trial's process
    reused = _study._process_token().rsplit(":", 1)[0] + ":0"
    assert not _study._alive(reused) and _study._alive(tokens[1])
    X, y = data
    run_tuning(_mlp(), SPACE, X, y, study=study, trials=1, cv=2, epochs=1)
    retry = [t for t in study.trials if t.user_attrs.get("retry_of") == 0]
    assert len(retry) == 1 and retry[0].state in FINISHED
    assert retry[0].params == killed.params
