"""partial_fit is one epoch (scikit-learn's incremental convention), and a
pruned search through scikit-learn's interface (Optuna's OptunaSearchCV)
scores and refits what ``fit`` trains. Over every registered classifier."""

import functools
import pickle
import warnings

import numpy as np
import pytest
from cases import NAMES, blobs, make
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV, StratifiedKFold

from skfashion import load_model, save_model
from skfashion.neural_network import CLASSIFIERS

optuna = pytest.importorskip("optuna")
optuna_integration = pytest.importorskip("optuna_integration")

EPOCHS = 3


@pytest.fixture(scope="module")
def data():
    return blobs(n_per_class=30)


def _lr_and_probabilities(clf, X):
    return clf.history[:, "train_loss"], clf.predict_proba(X)


@pytest.mark.parametrize("name", NAMES)
def test_partial_fit_is_one_epoch_whatever_max_epochs(name, data):
    X, y = data
    clf = make(name, max_epochs=5)
    for epochs in (1, 2, 3):
        clf.partial_fit(X, y)
        assert len(clf.history) == epochs
    clf.fit(X, y)  # fit still trains max_epochs, from scratch
    assert len(clf.history) == 5


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pickled", [False, True], ids=["", "pickled-between"])
def test_max_epochs_partial_fits_equal_one_fit(name, pickled, data):
    # The same code path draws the same random numbers (shuffles, dropout,
    # augmentation) and steps the same schedule (FastFashionCNN's one cycle
    # spans max_epochs): bit for bit on any CPU.
    X, y = data
    fitted = make(name, max_epochs=EPOCHS, validation_split=0.2).fit(X, y)
    calls = make(name, max_epochs=EPOCHS, validation_split=0.2)
    for _ in range(EPOCHS):
        calls.partial_fit(X, y)
        if pickled:
            calls = pickle.loads(pickle.dumps(calls))
    assert len(calls.history) == len(fitted.history) == EPOCHS
    for key in ("train_loss", "valid_loss", "valid_acc"):
        np.testing.assert_array_equal(calls.history[:, key], fitted.history[:, key])
    np.testing.assert_array_equal(calls.predict_proba(X), fitted.predict_proba(X))


def test_schedule_spans_max_epochs_across_partial_fits(data):
    X, y = data
    clf = make("fast", max_epochs=EPOCHS)
    rates = []
    for _ in range(EPOCHS + 1):
        clf.partial_fit(X, y)
        rates.append(clf.optimizer_.param_groups[0]["lr"] / clf.lr)
    # the triangle rises over its first fifth, then falls to ~0 at the end
    # of max_epochs epochs; the call after that starts a new one (a triangle
    # restarted by every call would end each call near 0: 0.1 here)
    assert rates[0] > 0.5 and rates[0] > rates[1] > rates[EPOCHS - 1]
    assert rates[EPOCHS - 1] < 0.1
    assert rates[EPOCHS] == pytest.approx(rates[0])


def test_warm_start_fit_continues_the_random_stream(data):
    X, y = data
    clf = make("mlp", max_epochs=1, warm_start=True)
    clf.fit(X, y)
    first = clf.history[-1, "train_loss"]
    twice = make("mlp", max_epochs=2).fit(X, y)
    clf.fit(X, y)
    assert clf.history[0, "train_loss"] == first
    np.testing.assert_array_equal(
        clf.history[:, "train_loss"], twice.history[:, "train_loss"]
    )


def test_first_partial_fit_leaves_no_checkpoint(data, tmp_path):
    X, y = data
    clf = make("mlp", max_epochs=EPOCHS, checkpoint_dir=tmp_path)
    clf.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert not list(tmp_path.iterdir())


def _search(name, X, y, *, seed=0, n_trials=4, pruner=None, enqueue=()):
    from optuna.distributions import FloatDistribution
    from optuna_integration import OptunaSearchCV

    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner or optuna.pruners.NopPruner(),
    )
    for params in enqueue:
        study.enqueue_trial(params)
    model = make(name, max_epochs=EPOCHS)
    search = OptunaSearchCV(
        model,
        {"lr": FloatDistribution(1e-7, max(3e-2, 2 * model.lr), log=True)},
        cv=StratifiedKFold(2),
        enable_pruning=True,
        max_iter=EPOCHS,
        n_trials=n_trials,
        study=study,
        n_jobs=1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return search.fit(X, y)


@pytest.mark.parametrize("name", NAMES)
def test_pruned_search_trains_pruned_trials_fewer_epochs(name, data, tmp_path):
    X, y = data
    # a good rate first, then a hopeless one: the median of the first trial
    # prunes the second after its first epoch
    pruner = optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    good = max(2e-2, make(name).lr)  # Adam's, or SGD's (FastFashionCNN)
    search = _search(
        name, X, y, n_trials=2, pruner=pruner, enqueue=({"lr": good}, {"lr": 1e-7})
    )
    states = [t.state for t in search.trials_]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    complete, pruned = search.trials_
    assert len(complete.intermediate_values) == EPOCHS
    assert len(pruned.intermediate_values) < EPOCHS
    # the refit trains what the score was measured at: max_epochs epochs
    best = search.best_estimator_
    assert isinstance(best, CLASSIFIERS[name])
    assert len(best.history) == EPOCHS and best.lr == good
    assert best.score(X, y) > 0.6  # chance: 1/3
    save_model(best, tmp_path / "best.skf")
    again = load_model(tmp_path / "best.skf")
    np.testing.assert_array_equal(again.predict_proba(X), best.predict_proba(X))


@pytest.mark.parametrize("name", NAMES)
def test_seeded_pruned_search_is_reproducible(name, data):
    X, y = data
    pruner = functools.partial(
        optuna.pruners.SuccessiveHalvingPruner, min_resource=1, reduction_factor=2
    )
    runs = [_search(name, X, y, seed=3, pruner=pruner()) for _ in range(2)]
    a, b = (
        [(t.params, t.state, t.intermediate_values) for t in r.trials_] for r in runs
    )
    assert a == b
    np.testing.assert_array_equal(
        runs[0].best_estimator_.predict_proba(X),
        runs[1].best_estimator_.predict_proba(X),
    )


@pytest.mark.parametrize("name", NAMES)
def test_halving_search_with_max_epochs_as_resource(name, data):
    X, y = data
    search = HalvingGridSearchCV(
        make(name),
        {"lr": [1e-7, 1e-2, 2e-2]},
        resource="max_epochs",
        max_resources=4,
        min_resources=1,
        factor=2,
        cv=StratifiedKFold(2),
    ).fit(X, y)
    assert search.best_params_["lr"] != 1e-7
    assert len(search.best_estimator_.history) == search.best_params_["max_epochs"]
