"""One contract for every estimator.

Each test runs for every classifier of skfashion's registry, alone and
inside a ``Pipeline`` after ``PixelScaler`` (see ``cases.py``). Models are
fitted once per module and shared (the ``fitted`` fixture of conftest.py),
as skorch's own tests do.
"""

import inspect
import threading
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from cases import (
    CASE_IDS,
    CASES,
    NAMES,
    TINY,
    TRAINING,
    blobs,
    data_for,
    final,
    make,
    step_name,
)
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.utils.class_weight import compute_sample_weight
from skorch.callbacks import Callback, EarlyStopping

import skfashion
from skfashion.modules import CNNModule, FastCNNModule, MLPModule
from skfashion.neural_network import CLASSIFIERS, _validation
from skfashion.preprocessing import ImagePreprocessor, PixelScaler


def test_registry_is_complete():
    public = {
        obj
        for obj in (getattr(skfashion, name) for name in skfashion.__all__)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator)
    }
    assert public == {*CLASSIFIERS.values(), ImagePreprocessor, PixelScaler}
    assert set(TINY) == set(CLASSIFIERS)  # every estimator has test settings
    assert {cls().module for cls in CLASSIFIERS.values()} <= {
        MLPModule,
        CNNModule,
        FastCNNModule,
    }
    # what the command line says of each: one title each, nothing else
    from skfashion import _catalog

    titles, original = _catalog.TITLES, _catalog.ORIGINAL
    assert list(titles) == list(CLASSIFIERS) and set(original) <= set(CLASSIFIERS)


# -------------------------------------------------------------- tiny data
@pytest.mark.parametrize(
    "n_per_class, batch_size, max_epochs",
    [(2, -1, 1), (2, 2, 2), (3, 5, 1), (2, 3, 0), (4, 4, 2)],
)
@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_tiny_data_never_crashes(name, pipeline, n_per_class, batch_size, max_epochs):
    X, y = data_for(pipeline, n_per_class=n_per_class)
    model = make(name, pipeline, batch_size=batch_size, max_epochs=max_epochs)
    model.fit(X, y)
    assert len(final(model).history_) == max_epochs
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 3) and np.isfinite(proba).all()


def test_batch_size_one():
    X, y = blobs(n_per_class=3)
    # BatchNorm has no batch statistics for one sample: refused, clearly
    with pytest.raises(ValueError, match="batch_size=1.*BatchNorm"):
        make("mlp", batch_size=1).fit(X, y)
    make("mlp", batch_size=1, batch_norm=False).fit(X, y)
    # 2-D BatchNorm has pixels to average over...
    assert len(make("cnn", batch_size=1, max_epochs=1).fit(X, y).history_) == 1
    fast = make("fast", batch_size=1, max_epochs=1, widths=(4,))  # 2x2 pixels
    assert len(fast.fit(X, y).history_) == 1
    # ... until the image is pooled to one pixel (6x6 -> 5x5 -> 2x2 -> 1x1)
    with pytest.raises(ValueError, match="batch_size=1.*BatchNorm") as error:
        make("fast", batch_size=1, max_epochs=1, widths=(4, 8)).fit(X, y)
    assert "batch_norm" not in str(error.value)  # FastFashionCNN has none


@pytest.mark.parametrize("n, epochs", [(1000, 1), (500, 2)])
def test_fast_cnn_defaults_on_few_images(n, epochs):
    # one-cycle schedules of 4 steps once divided by zero inside torch
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(n, 784)).astype(np.float32)
    y = np.arange(n) % 10
    clf = CLASSIFIERS["fast"](max_epochs=epochs, random_state=0).fit(X, y)
    assert len(clf.history_) == epochs


# ---------------------------------------------------------- sample weights
def _weights(y, seed=1):
    return np.random.RandomState(seed).uniform(0.1, 3, size=len(y))


def _fit_kwargs(model, sample_weight):
    if hasattr(model, "steps"):
        return {f"{step_name(model)}__sample_weight": sample_weight}
    return {"sample_weight": sample_weight}


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_sample_weight_weights_the_loss(name, pipeline):
    X, y = data_for(pipeline)
    w = _weights(y)
    plain = make(name, pipeline).fit(X, y).predict_proba(X)
    weighted = make(name, pipeline).fit(X, y, **_fit_kwargs(make(name, pipeline), w))
    assert not np.array_equal(weighted.predict_proba(X), plain)
    # equal weights are no weights, bit for bit; a scale changes nothing
    twos = make(name, pipeline)
    twos.fit(X, y, **_fit_kwargs(twos, np.full(len(y), 2.0)))
    np.testing.assert_array_equal(twos.predict_proba(X), plain)
    # Scaled by a power of two, the weights normalize (w * n / sum(w)) to the
    # same floats exactly -- every product, sum and quotient is scaled by 8
    # and back without a rounding of its own -- so the fits are the same bit
    # for bit on every CPU. (With a scale of 10 they differ in the last bit,
    # and three epochs of Adam amplify that differently on AVX2 and AVX-512.)
    scaled = make(name, pipeline)
    scaled.fit(X, y, **_fit_kwargs(scaled, 8 * w))
    np.testing.assert_array_equal(scaled.predict_proba(X), weighted.predict_proba(X))
    # any other scale: the same weights, up to float32 rounding
    np.testing.assert_allclose(
        _validation.sample_weights(X, y, 10 * w, None, "none"),
        _validation.sample_weights(X, y, w, None, "none"),
        rtol=2 * np.finfo(np.float32).eps,
    )


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_weighted_validation_loss_and_accuracy(name, pipeline):
    X, y = data_for(pipeline)
    w = _weights(y)
    valid = slice(0, 30)
    model = make(name, pipeline, validation_split=valid, l2=0.0)
    model.fit(X, y, **_fit_kwargs(model, w))
    clf = final(model)
    w_norm = w * len(w) / w.sum()  # scaled to a mean of 1 over all samples
    Xv, yv, wv = X[valid], y[valid], w_norm[valid]
    if pipeline:
        Xv = model[:-1].transform(Xv)  # what the classifier validated on
    proba = clf.predict_proba(Xv)
    assert clf.history_[-1, "valid_acc"] == pytest.approx(
        accuracy_score(yv, proba.argmax(1), sample_weight=wv), abs=1e-6
    )
    with torch.no_grad():
        logits = clf.forward(Xv)
        losses = clf.criterion_(logits, torch.as_tensor(yv)).numpy()
    expected = float((losses * wv).sum() / len(yv))
    assert clf.history_[-1, "valid_loss"] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_class_weight(name, pipeline):
    X, y = data_for(pipeline)
    # "balanced" is the same as its per-sample weights
    keep = np.r_[0:40, 40:60, 80:90]  # imbalanced: 40, 20 and 10 samples
    Xi, yi = X[keep], y[keep]
    balanced = make(name, pipeline, class_weight="balanced").fit(Xi, yi)
    manual = make(name, pipeline)
    manual.fit(Xi, yi, **_fit_kwargs(manual, compute_sample_weight("balanced", yi)))
    np.testing.assert_array_equal(balanced.predict_proba(X), manual.predict_proba(X))
    # a class with weight 0 is not predicted: half the images of band 1 are
    # labelled 0, half 1, so each of the two classes wins once the other
    # one's weight is 0
    labels = y.copy()
    labels[y == 0] = 2
    band1 = np.flatnonzero(y == 1)
    labels[np.random.RandomState(0).choice(band1, 20, replace=False)] = 0
    for gone, kept in ((0, 1), (1, 0)):
        weights = {gone: 0.0, kept: 1.0, 2: 1.0}
        # 10 epochs: FastFashionCNN's short triangle has barely begun in 3
        model = make(name, pipeline, class_weight=weights, max_epochs=10)
        pred = model.fit(X, labels).predict(X)
        assert gone not in set(pred) and kept in set(pred[band1])


@pytest.mark.parametrize("name", NAMES)
def test_sample_weight_routing(name):
    X, y = data_for(True)
    w = _weights(y)
    expected = make(name, True)
    expected.fit(X, y, **_fit_kwargs(expected, w))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make(name, True)
        final(pipe).set_fit_request(sample_weight=True)
        pipe.fit(X, y, sample_weight=w)
        np.testing.assert_array_equal(pipe.predict_proba(X), expected.predict_proba(X))
        scorer = make_scorer(accuracy_score).set_score_request(sample_weight=True)
        lr = {f"{step_name(pipe)}__lr": [final(pipe).lr]}  # the model's own
        grid = GridSearchCV(pipe, lr, cv=2, scoring=scorer).fit(
            X, y, sample_weight=w
        )  # weighted fits and scores of each fold
        np.testing.assert_array_equal(grid.predict_proba(X), expected.predict_proba(X))
    # without routing, GridSearchCV passes fit parameters on by name
    grid = GridSearchCV(clone(expected), lr, cv=2)
    grid.fit(X, y, **_fit_kwargs(expected, w))
    np.testing.assert_array_equal(grid.predict_proba(X), expected.predict_proba(X))


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_bad_sample_weights(name, pipeline):
    X, y = data_for(pipeline, n_per_class=4)
    model = make(name, pipeline)

    def weighted(w):
        return _fit_kwargs(model, w)

    with pytest.raises(ValueError, match="sample_weight.shape"):
        model.fit(X, y, **weighted(np.ones(len(y) - 1)))
    with pytest.raises(ValueError, match="[Nn]egative"):
        model.fit(X, y, **weighted(-np.ones(len(y))))
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, y, **weighted(np.full(len(y), np.nan)))
    with pytest.raises(ValueError, match="nothing to learn|non-zero"):
        make(name, pipeline, class_weight={0: 0, 1: 0, 2: 0}).fit(X, y)
    with pytest.raises(ValueError, match="per-sample losses"):
        make(name, pipeline, criterion__reduction="mean").fit(
            X, y, **weighted(_weights(y))
        )
    with pytest.raises(ValueError, match="class_weight"):
        make(name, pipeline, class_weight="unbalanced").fit(X, y)


# ---------------------------------------------------------- thread safety
def test_predict_proba_from_two_threads(fitted):
    model, X, _ = fitted
    X = np.concatenate([X] * 20)
    expected = model.predict_proba(X)
    before = joblib.hash(model.get_params())
    barrier = threading.Barrier(2)
    results = [None, None]

    def predict(i):
        barrier.wait()
        results[i] = model.predict_proba(X)

    threads = [threading.Thread(target=predict, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        np.testing.assert_array_equal(result, expected)
    assert joblib.hash(model.get_params()) == before
    assert final(model).device == "auto"


# --------------------------------------------------------------- bad input
def _architecture_param(name):
    return {"mlp": "hidden_units", "cnn": "filters", "fast": "widths"}[name]


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_bad_parameters_are_named(name, pipeline):
    X, y = data_for(pipeline, n_per_class=4)
    arch = _architecture_param(name)
    cases = [
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"batch_size": -2}, "'batch_size' parameter"),
        ({"max_epochs": -1}, "'max_epochs' parameter"),
        ({"lr": 0.0}, "'lr' parameter"),
        ({"l2": -1.0}, "'l2' parameter"),
        ({arch: (0,)}, f"'{arch}' parameter.*positive ints"),
        ({arch: (4, 2.5)}, f"'{arch}' parameter.*positive ints"),
        ({"precision": "float16"}, "'precision' parameter"),
        ({"validation_split": 1.5}, "'validation_split' parameter"),
        ({"device": "tpu"}, "device must be"),
        ({"dropout": 1.5}, "'dropout' parameter"),
    ]
    if name != "mlp":
        cases.append(({"image_shape": (6, 0)}, "'image_shape' parameter"))
    for params, match in cases:
        model = make(name, pipeline, **params)
        with pytest.raises(ValueError, match=match):
            model.fit(X, y)
        assert not final(model).initialized_  # refused before anything ran


class CountBatches(Callback):
    def initialize(self):  # before any other callback's on_train_begin
        self.batches_ = 0
        return self

    def on_batch_end(self, net, **kwargs):
        self.batches_ += 1


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_validation_monitor_without_validation_is_refused(name, pipeline):
    """EarlyStopping (or a Checkpoint) on a validation score with no
    validation data: a ValueError naming the parameter, before any batch --
    not skorch's KeyError on the history after the first epoch."""
    from skorch.callbacks import Checkpoint

    X, y = data_for(pipeline)
    for callback, split, match in [
        (EarlyStopping(), None, r"'valid_loss'.*validation_split=None.*'train_loss'"),
        (EarlyStopping(monitor="valid_acc"), 0.001, "leaves no validation sample"),
        (Checkpoint(dirname="never-written"), None, "'valid_loss_best'"),
    ]:
        count = CountBatches()
        model = make(
            name,
            pipeline,
            validation_split=split,
            callbacks=[("stop", callback), ("count", count)],
        )
        with pytest.raises(ValueError, match=match):
            model.fit(X, y)
        assert count.batches_ == 0
    # a training score needs no validation data
    model = make(
        name,
        pipeline,
        validation_split=None,
        callbacks=[("stop", EarlyStopping(monitor="train_loss"))],
    )
    assert len(final(model.fit(X, y)).history_) == TRAINING["max_epochs"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_cuda_without_gpu_is_refused_before_training(name, pipeline):
    X, y = data_for(pipeline, n_per_class=4)
    model = make(name, pipeline, device="cuda")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        model.fit(X, y)
    assert not final(model).initialized_ and final(model).device == "cuda"


@pytest.mark.parametrize("name", NAMES)
def test_raw_pixels_warn_and_name_pixel_scaler(name):
    X, y = blobs()
    clf = make(name).fit(X, y)  # trained on [0, 1]
    with pytest.warns(UserWarning, match="PixelScaler"):
        clf.predict((X * 255).round())
    pipe = make(name, True).fit(*blobs(pixels=True))  # the pipeline scales
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.predict((X * 255).round())


@pytest.fixture
def writeable_only(monkeypatch):
    """torch warns about read-only NumPy arrays only once per process, so a
    warning cannot show the next case's mistake: refuse them at the source."""
    as_tensor = torch.as_tensor

    def checked(data, *args, **kwargs):
        if isinstance(data, np.ndarray):
            assert data.flags.writeable, "a read-only array reached torch"
        return as_tensor(data, *args, **kwargs)

    monkeypatch.setattr(torch, "as_tensor", checked)


def test_read_only_input_raises_no_warning(fitted, writeable_only):
    model, X, y = fitted
    X = X.copy()
    X.setflags(write=False)
    frame = pd.DataFrame(X)  # pandas 3: copy-on-write, read-only arrays
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict_proba(X)
        model.predict(frame)
        clone(model).set_params(**{_max_epochs_key(model): 1}).fit(X, y)


def _max_epochs_key(model):
    return (
        f"{step_name(model)}__max_epochs" if hasattr(model, "steps") else "max_epochs"
    )


def test_pandas_output_pipeline_raises_no_warning(writeable_only):
    X, y = data_for(True)
    pipe = make("mlp", True).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.fit(X, y)
        pipe.predict(X)


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_skorch_checkpoint_and_load_init_state(name, pipeline, tmp_path):
    """skorch's own checkpoint idiom works with device="auto": Checkpoint
    saves every epoch (monitor=None: which epoch is best would depend on the
    CPU's rounding), LoadInitState starts the next fit from the last one,
    and load_params reads it into a fresh net; the device parameter stays as
    given."""
    from skorch.callbacks import Checkpoint, LoadInitState

    X, y = data_for(pipeline)
    checkpoint = Checkpoint(dirname=str(tmp_path), monitor=None)
    model = make(
        name,
        pipeline,
        callbacks=[("checkpoint", checkpoint), ("load", LoadInitState(checkpoint))],
    )
    model.fit(X, y)
    assert (tmp_path / "params.pt").exists()
    first = final(model).history_[:, "valid_loss"]
    model.fit(X, y)  # starts from the saved epoch: its history continues
    assert len(final(model).history_) == 2 * TRAINING["max_epochs"]
    assert final(model).history_[: len(first), "valid_loss"] == first
    assert final(model).device == "auto"

    fresh = final(make(name))
    fresh.fit(*data_for(False))  # the same architecture and classes
    fresh.load_params(checkpoint=checkpoint)
    saved = torch.load(tmp_path / "params.pt", weights_only=True)
    for key, value in fresh.module_.state_dict().items():
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0)
    assert fresh.device == "auto" and fresh.device_ == final(model).device_


@pytest.mark.parametrize("name", NAMES)
def test_module_parameters_are_declared(name):
    """Each estimator lists the parameters its module is built with; the list
    matches what its default module accepts, so none is forgotten."""
    cls = CLASSIFIERS[name]
    params = cls().get_params(deep=False)
    module = params["module"]
    accepted = set(inspect.signature(module).parameters)
    declared = set(cls._module_parameters)
    assert declared <= set(params)  # the estimator's own parameters
    assert declared | set(cls._module_data) == accepted
    clf = make(name).fit(*data_for(False))
    for key in declared:  # the module got the estimator's values
        value = getattr(clf, key)
        assert clf._module_kwargs()[key] == (
            tuple(value) if isinstance(value, list) else value
        )


# -------------------------------------------------------------- calibration
def test_temperature_scaling_of_a_frozen_model(fitted):
    # scikit-learn's temperature scaling of a fitted model: fitted on held-out
    # images, it rescales the confidence and changes no prediction
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    model, X, y = fitted
    X_held, y_held = data_for(hasattr(model, "steps"), seed=1)
    before = model.predict_proba(X_held)
    scaled = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
    scaled.fit(X_held, y_held)
    proba = scaled.predict_proba(X_held)
    np.testing.assert_array_equal(scaled.classes_, model.classes_)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), before.argmax(axis=1))
    beta = scaled.calibrated_classifiers_[0].calibrators[0].beta_
    assert np.isfinite(beta) and beta > 0
    # the temperature is applied: rescaled log-probabilities match
    logits = np.log(np.clip(before.astype(np.float64), 1e-300, None)) * beta
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    # the frozen model was not refitted
    np.testing.assert_array_equal(model.predict_proba(X_held), before)


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_predict_proba_undoes_label_smoothing(name, pipeline):
    # trained towards (1 - eps) * one-hot + eps / K, the softmax estimates
    # those targets; predict_proba maps it back, and predict_nonlinearity
    # given by the user (skorch's parameter) replaces it
    from functools import partial

    eps = 0.3
    smoothing = (
        {"label_smoothing": eps}
        if "label_smoothing" in inspect.signature(CLASSIFIERS[name]).parameters
        else {"criterion__label_smoothing": eps}
    )
    X, y = data_for(pipeline)
    model = make(name, pipeline, max_epochs=1, **smoothing).fit(X, y)
    clf = final(model)
    proba = model.predict_proba(X)
    clf.set_params(predict_nonlinearity=partial(torch.softmax, dim=-1))
    softmax = model.predict_proba(X)
    assert softmax.max() <= 1 - eps + eps / softmax.shape[1] + 1e-3
    expected = np.maximum((softmax - eps / softmax.shape[1]) / (1 - eps), 1e-6)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), softmax.argmax(axis=1))
    assert proba.max() > softmax.max()  # confident again
    # "auto" without smoothing is the plain softmax
    # (skorch re-initializes the criterion on set_params)
    clf.set_params(predict_nonlinearity="auto", criterion__label_smoothing=0.0)
    np.testing.assert_allclose(model.predict_proba(X), softmax, atol=1e-6)
