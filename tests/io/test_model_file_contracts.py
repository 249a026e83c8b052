"""save_model and load_model for every estimator, alone and in a pipeline:
what a fit decided comes back, and what could not be loaded is never written."""

import pickle

import numpy as np
import pytest
import torch
from cases import (
    CASE_IDS,
    CASES,
    blobs,
    data_for,
    final,
    make,
)
from safetensors import safe_open
from skorch.callbacks import Callback, EarlyStopping

from skfashion import load_model, plot_history, save_model


# ------------------------------------------------------------ save / load
def test_save_load_round_trip(fitted, tmp_path, monkeypatch):
    model, X, y = fitted
    path = tmp_path / "m.safetensors"
    save_model(model, path)

    def forbidden(*args, **kwargs):
        raise AssertionError("load_model unpickled something")

    with monkeypatch.context() as m:
        for name in ("load", "loads", "Unpickler"):
            m.setattr(pickle, name, forbidden)
        again = load_model(path)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    net, back = final(model), final(again)
    assert type(back) is type(net)
    assert repr(back.get_params(deep=False)) == repr(net.get_params(deep=False))
    assert back.history_.to_list() == net.history_.to_list()
    # every fitted attribute comes back, through the one pair that checkpoints
    # use too
    assert back.get_fitted_state() == net.get_fitted_state()
    assert back.split_seed_ == net.split_seed_ and back.input_max_ == net.input_max_
    assert plot_history(again)[0].get_title() == "Accuracy"
    # the file: tensors and one JSON header, nothing else
    with safe_open(str(path), framework="pt") as f:
        assert set(f.keys()) == set(net.module_.state_dict())
        assert set(f.metadata()) == {"skfashion"}


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_string_labels_survive_save_load(name, pipeline, tmp_path):
    X, y = data_for(pipeline)
    labels = np.array(["Bag", "Coat", "Sneaker"])[y]
    model = make(name, pipeline).fit(X, labels)
    save_model(model, tmp_path / "m.safetensors")
    again = load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert again.predict(X).dtype.kind == "U"


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_saved_training_setup_comes_back(name, pipeline, tmp_path):
    X, y = data_for(pipeline)
    model = make(
        name,
        pipeline,
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        criterion=torch.nn.CrossEntropyLoss,
        criterion__label_smoothing=0.05,
        callbacks=[("stop", EarlyStopping(patience=7, monitor="valid_acc"))],
        max_epochs=1,
    ).fit(X, y)
    save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    again = final(loaded)
    assert again.optimizer is torch.optim.SGD
    assert again.optimizer_.param_groups[0]["momentum"] == 0.9
    assert again.criterion_.label_smoothing == 0.05
    [(stop_name, stop)] = again.callbacks
    assert stop_name == "stop" and isinstance(stop, EarlyStopping)
    assert stop.patience == 7 and stop.monitor == "valid_acc"
    # a loaded model is a whole estimator: it trains again
    assert len(final(loaded.fit(X, y)).history_) == 1


class _CustomCallback(Callback):
    pass


class _CustomModule(torch.nn.Module):
    def __init__(self, n_features, n_classes, **architecture):  # FashionMLP's
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, x):
        return self.linear(x)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"callbacks": [_CustomCallback()]}, "_CustomCallback"),
        ({"callbacks__print_log__sink": lambda s: None}, "callbacks__print_log__sink"),
        ({"random_state": np.random.RandomState(0)}, "random_state"),
    ],
    ids=["callback", "sink", "random_state"],
)
@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_save_refuses_what_it_cannot_load(name, pipeline, params, match, tmp_path):
    X, y = data_for(pipeline, n_per_class=4)
    model = make(name, pipeline, max_epochs=0, **params).fit(X, y)
    with pytest.raises(ValueError, match=match):
        save_model(model, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a tmp


def test_save_refuses_a_custom_module(tmp_path):
    X, y = blobs(n_per_class=4)
    clf = make("mlp", module=_CustomModule, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="custom module"):
        save_model(clf, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []
