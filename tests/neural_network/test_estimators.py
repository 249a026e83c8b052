"""Each classifier's own behaviour: labels, architectures, bad input, validation,
reproducibility, pickling, precision, verbosity, skorch's parameters, learning
on real images, FastFashionCNN's recipe."""

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from cases import MAKERS, tiny_cnn, tiny_mlp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from skorch.callbacks import EarlyStopping

from skfashion import CLASS_NAMES, FashionCNN, FashionMLP, PixelScaler
from skfashion.utils import bf16_supported, resolve_precision


# ------------------------------------------------------------------- labels
@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS)
def test_learns_and_returns_user_labels(make, blobs):
    X, y = blobs
    names = np.array(["Sneaker", "Bag", "Trouser"])[y]
    clf = make(max_epochs=10).fit(X, names)
    assert clf.classes_.tolist() == ["Bag", "Sneaker", "Trouser"]
    assert clf.n_features_in_ == 36
    pred = clf.predict(X)
    assert pred.dtype == names.dtype
    assert clf.score(X, names) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 3)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)


def test_non_contiguous_int_labels(blobs):
    X, y = blobs
    labels = np.array([3, 7, 42])[y]
    clf = tiny_mlp().fit(X, labels)
    assert clf.classes_.tolist() == [3, 7, 42]
    assert set(clf.predict(X)) <= {3, 7, 42}
    assert clf.score(X, labels) > 0.9


def test_accepts_lists_pandas_and_uint8(blobs):
    X, y = blobs
    X8 = (X * 255).astype(np.uint8)
    df = pd.DataFrame(X8, columns=[f"p{i}" for i in range(36)])
    clf = tiny_mlp().fit(df, pd.Series(y))
    assert clf.feature_names_in_[0] == "p0"
    a = clf.predict_proba(df)
    b = tiny_mlp().fit(X8.tolist(), y.tolist()).predict_proba(X8.tolist())
    np.testing.assert_array_equal(a, b)


def test_mlp_takes_any_number_of_features():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 5))  # float64 tabular data
    y = (X[:, 0] > 0).astype(int)
    clf = tiny_mlp(max_epochs=40).fit(X, y)  # BatchNorm stats settle slowly
    assert clf.module_[0].in_features == 5
    assert clf.score(X, y) > 0.85


# ------------------------------------------------------------ architecture
def test_default_architectures_are_the_reports():
    mlp = FashionMLP(random_state=0)
    X = np.zeros((20, 784), np.float32)
    y = np.arange(20) % 10
    mlp.set_params(max_epochs=0).fit(X, y)
    linear = [m for m in mlp.module_.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (784, 1024),
        (1024, 512),
        (512, 256),
        (256, 10),
    ]
    bns = [m for m in mlp.module_.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(bns) == 3 and all(b.momentum == 0.01 and b.eps == 1e-3 for b in bns)
    assert all(
        float(m.bias.detach().abs().max()) == 0 for m in linear
    )  # Keras zero bias
    bound = np.sqrt(6 / (784 + 1024))  # Glorot uniform
    assert 0.9 * bound < float(linear[0].weight.detach().abs().max()) <= bound
    assert isinstance(mlp.module_[1], torch.nn.LeakyReLU)
    assert mlp.module_[1].negative_slope == 0.1
    group = mlp.optimizer_.param_groups[0]
    assert isinstance(mlp.optimizer_, torch.optim.Adam)
    assert group["lr"] == 1e-4 and group["eps"] == 1e-7
    assert mlp.batch_size == 32 and mlp.l2 == 1e-4

    cnn = FashionCNN(random_state=0, max_epochs=0).fit(X, y)
    convs = [m for m in cnn.module_.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [
        (128, (5, 5)),
        (256, (5, 5)),
        (512, (5, 5)),
    ]
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in cnn.module_.modules()) == 2
    assert sum(isinstance(m, torch.nn.Tanh) for m in cnn.module_.modules()) == 3
    dense = [m for m in cnn.module_.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in dense] == [
        (7 * 7 * 512, 128),
        (128, 64),
        (64, 10),
    ]


def test_cnn_rejects_wrong_feature_count(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="X has 36 features, but FashionCNN"):
        FashionCNN(max_epochs=1).fit(X, y)
    clf = tiny_cnn().fit(X, y)
    with pytest.raises(ValueError, match="36 features as input"):
        clf.predict(X[:, :30])


def test_cnn_one_row_images(blobs):
    X, y = blobs
    clf = tiny_cnn(image_shape=None).fit(X, y)
    assert clf.score(X, y) > 0.9


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS)
def test_bad_inputs_raise_sklearn_errors(make, blobs):
    X, y = blobs
    with pytest.raises(NotFittedError):
        make().predict(X)
    with pytest.raises(NotFittedError):
        make().predict_proba(X)
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make().fit(Xnan, y)
    Xinf = X.copy()
    Xinf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        make().fit(Xinf, y)
    with pytest.raises(ValueError, match="0 sample"):
        make().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="Expected 2D array"):
        make().fit(X[0], y[:36])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        make().fit(X, y[:-1])
    with pytest.raises(ValueError, match="at least 2 classes.*only one class"):
        make().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        make().fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match="'precision' parameter"):
        make(precision="float16").fit(X, y)
    with pytest.raises(ValueError, match="validation_split"):
        make(validation_split=1.5).fit(X, y)
    with pytest.raises(ValueError, match="validation_split"):
        make(validation_split=[0, 10_000]).fit(X, y)
    with pytest.raises(ValueError, match="'l2' parameter"):
        make(l2=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="batch_size"):
        make(batch_size=0).fit(X, y)


# ----------------------------------------------------------- validation
def _valid_count(clf):
    return sum(clf.history_[0, "batches", :, "valid_batch_size"])


def test_validation_split_variants(blobs):
    X, y = blobs
    clf = tiny_mlp(validation_split=0.25).fit(X, y)
    assert _valid_count(clf) == 30
    assert set(clf.history_[0].keys()) >= {
        "train_loss",
        "train_acc",
        "valid_loss",
        "valid_acc",
        "dur",
    }
    clf = tiny_mlp(validation_split=None).fit(X, y)
    assert "valid_acc" not in clf.history_[0]
    assert "train_acc" in clf.history_[0]
    # the first 40 rows (all of class 0) as a fixed validation set
    clf = tiny_mlp(validation_split=slice(0, 40)).fit(X, y)
    assert _valid_count(clf) == 40
    assert clf.classes_.tolist() == [0, 1, 2]
    clf = tiny_mlp(validation_split=np.arange(100, 120)).fit(X, y)
    assert _valid_count(clf) == 20


def test_stratified_split_and_train_accuracy(blobs):
    X, y = blobs
    clf = tiny_mlp(validation_split=0.5, max_epochs=1, batch_size=60)
    clf.fit(X, y)
    # train accuracy is measured on the training batches, in [0, 1]
    assert 0 <= clf.history_[-1, "train_acc"] <= 1
    assert 0 <= clf.history_[-1, "valid_acc"] <= 1


# ------------------------------------------------------- reproducibility
@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS)
def test_random_state_is_bit_identical(make, blobs):
    X, y = blobs
    a = make(random_state=3).fit(X, y).predict_proba(X)
    b = make(random_state=3).fit(X, y).predict_proba(X)
    c = make(random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_does_not_touch_global_rng(blobs):
    X, y = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tiny_mlp().fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


# ------------------------------------------------------------- pickling
@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS)
def test_pickle_and_joblib_round_trip(make, blobs, tmp_path):
    X, y = blobs
    clf = make().fit(X, np.array(CLASS_NAMES)[y])
    expected = clf.predict_proba(X)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), expected)
    assert again.device == "auto" and again.device_ == "cpu"
    joblib.dump(clf, tmp_path / "m.pkl")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "m.pkl").predict(X), clf.predict(X)
    )


# -------------------------------------------------- precision and device
def test_precision_auto_follows_hardware(blobs):
    X, y = blobs
    clf = tiny_mlp().fit(X, y)
    assert clf.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    expected = "bfloat16" if bf16_supported(clf.device_) else "float32"
    assert clf.precision_ == expected
    assert resolve_precision("auto", "cpu") in ("bfloat16", "float32")


def _cpuinfo(vendor, *flags):
    return (
        f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: 6\n"
        f"flags\t\t: fpu sse2 avx avx2 fma {' '.join(flags)}\n\n"
    )


@pytest.mark.parametrize(
    "cpuinfo, fast",
    [
        # the four kinds of CPU this project trains on
        (_cpuinfo("GenuineIntel", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"), 1),
        (_cpuinfo("AuthenticAMD", "avx512f", "avx512_bf16"), 1),  # Zen 4, Zen 5
        (_cpuinfo("AuthenticAMD"), 0),  # AVX2 only
        # AVX512-BF16 without AMX on an Intel CPU: slower than float32
        (_cpuinfo("GenuineIntel", "avx512f", "avx512_bf16", "avx512_vnni"), 0),
        (_cpuinfo("GenuineIntel", "avx512f"), 0),
        ("", 0),  # no /proc/cpuinfo
    ],
    ids=[
        "intel-amx",
        "amd-avx512-bf16",
        "amd-avx2",
        "intel-avx512-bf16",
        "intel",
        "none",
    ],
)
def test_bfloat16_where_it_is_faster(cpuinfo, fast, monkeypatch):
    from skfashion.utils import _hardware

    monkeypatch.setattr(_hardware, "_cpuinfo", lambda: cpuinfo)
    assert bf16_supported("cpu") is bool(fast)
    assert resolve_precision("auto", "cpu") == ("bfloat16" if fast else "float32")
    assert resolve_precision("bfloat16", "cpu") == "bfloat16"  # asked for: kept


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_both_precisions_learn(precision, blobs):
    X, y = blobs
    clf = tiny_cnn(precision=precision).fit(X, y)
    assert clf.precision_ == precision
    assert clf.predict_proba(X).dtype == np.float32
    assert clf.score(X, y) > 0.9


def test_bfloat16_autocast_is_used(blobs):
    X, y = blobs
    clf = tiny_mlp(precision="bfloat16").fit(X, y)
    seen = []
    hook = clf.module_[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    clf.predict_proba(X[:4])
    hook.remove()
    assert seen == [torch.bfloat16]


# ------------------------------------------------------------ verbosity
def test_verbose_levels(blobs, capsys):
    X, y = blobs
    tiny_mlp(verbose=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    tiny_mlp(verbose=1, max_epochs=2).fit(X, y)
    captured = capsys.readouterr()
    assert "train_acc" in captured.out and "valid_acc" in captured.out


# ------------------------------------------------- skorch parameters work
def test_skorch_prefixed_params_and_callbacks(blobs):
    X, y = blobs
    clf = tiny_mlp(
        max_epochs=50,
        optimizer__weight_decay=1e-3,
        iterator_train__shuffle=False,
        callbacks=[EarlyStopping(monitor="valid_loss", patience=2, threshold=1e-2)],
    ).fit(X, y)
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 1e-3
    assert clf.optimizer_.param_groups[0]["eps"] == 1e-7
    assert len(clf.history_) < 50  # stopped early
    clone(clf).set_params(callbacks__EarlyStopping__patience=5)
    custom_eps = tiny_mlp(optimizer__eps=1e-3).fit(X, y)
    assert custom_eps.optimizer_.param_groups[0]["eps"] == 1e-3


def test_get_params_unchanged_by_fit(blobs):
    X, y = blobs
    clf = tiny_mlp()
    before = joblib.hash(clf.get_params())
    clf.fit(X, y)
    assert joblib.hash(clf.get_params()) == before


# -------------------------------------------- pipelines on real images
@pytest.fixture(scope="module")
def small_real(fashion_train):
    rng = np.random.RandomState(0)
    idx = rng.choice(len(fashion_train.target), 1200, replace=False)
    X = fashion_train.images[idx]  # (n, 28, 28) uint8: PixelScaler flattens
    y = np.array(CLASS_NAMES)[fashion_train.target[idx]]
    return X[:1000], y[:1000], X[1000:], y[1000:]


def test_grid_search_pipeline_on_real_images(small_real):
    X, y, X_test, y_test = small_real
    pipe = make_pipeline(
        PixelScaler(),
        FashionCNN(
            filters=(8, 16),
            dense_units=(32,),
            max_epochs=3,
            batch_size=32,
            random_state=0,
        ),
    )
    grid = GridSearchCV(
        pipe,
        {"fashioncnn__lr": [1e-3, 3e-3], "fashioncnn__kernel_size": [3, 5]},
        cv=2,
        n_jobs=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ > 0.6
    pred = grid.predict(X_test)
    assert set(pred) <= set(CLASS_NAMES)
    cm = confusion_matrix(y_test, pred, labels=list(CLASS_NAMES))
    assert cm.shape == (10, 10) and cm.sum() == len(y_test)
    assert np.trace(cm) / cm.sum() == pytest.approx(grid.score(X_test, y_test))
    report = classification_report(y_test, pred, output_dict=True, zero_division=0)
    assert report["accuracy"] > 0.6
    # a fitted search pickles, with identical predictions
    buffer = io.BytesIO()
    joblib.dump(grid, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(X_test), pred)


# ---------------------------------------------- learning on real data
@pytest.mark.slow
def test_mlp_learns_fashion_mnist(fashion_train, fashion_test):
    pipe = make_pipeline(PixelScaler(), FashionMLP(max_epochs=2, random_state=0))
    pipe.fit(fashion_train.data[:10000], fashion_train.target[:10000])
    assert pipe.score(fashion_test.data, fashion_test.target) >= 0.80


# ------------------------------------------------------------ FastFashionCNN
def test_fast_cnn_recipe(blobs):
    from skorch.callbacks import Callback

    X, y = blobs
    rates = []

    class Probe(Callback):  # the rates the schedule set, after every epoch
        def on_epoch_end(self, net, **kw):
            rates.append([g["lr"] for g in net.optimizer_.param_groups])

    clf = MAKERS["fast"](max_epochs=8, callbacks=[Probe()]).fit(X, y)
    rest, shifts = clf.optimizer_.param_groups
    assert isinstance(clf.optimizer_, torch.optim.SGD)
    assert rest["nesterov"] and rest["momentum"] == 0.85
    assert rest["weight_decay"] == 1.33e-3
    assert shifts["weight_decay"] * clf.norm_bias_lr == pytest.approx(1.33e-3)
    # the BatchNorm shifts, and only they, train norm_bias_lr times faster;
    # their scales and the whitening filters do not train
    norms = [m for m in clf.module_.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert {id(m.bias) for m in norms} == {id(p) for p in shifts["params"]}
    assert not any(m.weight.requires_grad for m in norms)
    assert not clf.module_.whiten.weight.requires_grad
    for lr_rest, lr_shifts in rates[:-1]:
        assert lr_shifts == pytest.approx(clf.norm_bias_lr * lr_rest)
    assert clf.criterion_.label_smoothing == 0.2
    # triangular: up to lr over the first fifth of the steps, then down to 0
    first = [r[0] for r in rates]
    assert first[0] < first[1] <= clf.lr and first[1] > first[2] > first[-2]
    assert 0 < first[-1] < clf.lr / 20  # the last step's: one step above 0
    # augmentation in training only: predictions are deterministic
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    assert clf.score(X, y) > 0.9


def test_fast_cnn_averages_mirror_images(blobs):
    from skfashion.neural_network import SmoothedSoftmaxInverse

    X, y = blobs
    # float32: bfloat16 kernels round differently for other batch sizes
    clf = MAKERS["fast"](max_epochs=2, precision="float32").fit(X, y)
    module = clf.module_.eval()
    images = torch.as_tensor(X[:10])
    with torch.no_grad():
        plain = module(images, tta=False).float()
        mirrored = module(images.reshape(-1, 6, 6).flip(-1).reshape(10, -1), tta=False)
    mean = (plain + mirrored.float()) / 2
    expected = SmoothedSoftmaxInverse(clf.label_smoothing)(mean).numpy()
    np.testing.assert_allclose(clf.predict_proba(X[:10]), expected, atol=1e-6)
    # the parameter is read at each call, also on a fitted model
    clf.set_params(tta=False)
    expected = SmoothedSoftmaxInverse(clf.label_smoothing)(plain).numpy()
    np.testing.assert_allclose(clf.predict_proba(X[:10]), expected, atol=1e-6)
    assert not np.allclose(plain.numpy(), mean.numpy())
    with pytest.raises(ValueError, match="tta=True .* flip=False"):
        MAKERS["fast"](flip=False).fit(X, y)


def test_last_batch_of_one_sample_trains(blobs):
    # 33 training samples, batches of 16: BatchNorm cannot train on the
    # 33rd sample alone, so it joins the previous batch
    X, y = blobs
    clf = FashionMLP(
        hidden_units=(8,),
        max_epochs=1,
        batch_size=16,
        validation_split=None,
        random_state=0,
    )
    clf.fit(X[::3][:33], y[::3][:33])
    sizes = clf.history_[0, "batches", :, "train_batch_size"]
    assert sizes == [16, 17]
