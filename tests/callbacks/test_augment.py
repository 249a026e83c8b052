"""RobustAugmentation: corrupted copies of the training batches, only in
training, for every registered classifier."""

import numpy as np
import pytest
import torch
from cases import CASE_IDS, CASES, SIDE, data_for, final, make
from skorch.callbacks import Callback

from skfashion.callbacks import RobustAugmentation

#: the corruptions the docs list
OPS = [
    "affine",
    "noise",
    "impulse",
    "blur",
    "brightness",
    "contrast",
    "invert",
    "flip",
    "turn",
]


class Recorder(Callback):
    """Keeps what the module is called with, in training and not."""

    def on_train_begin(self, net, **kwargs):
        self.seen = {True: [], False: []}

        def hook(module, args):
            self.seen[module.training].append(args[0].detach().clone())

        self.handle = net.module_.register_forward_pre_hook(hook)

    def on_train_end(self, net, **kwargs):
        self.handle.remove()


def _nearest(rows, table):
    """Each row's largest distance to its nearest row of ``table``."""
    return torch.cdist(rows.double(), torch.as_tensor(table).double()).min(1).values


@pytest.mark.parametrize(("name", "pipeline"), CASES, ids=CASE_IDS)
def test_training_batches_are_corrupted_copies(name, pipeline):
    X, y = data_for(pipeline)
    before = X.copy()
    recorder = Recorder()
    augment = RobustAugmentation(probability=1.0, ops=["invert"], depth=1)
    model = make(name, pipeline, max_epochs=1, callbacks=[augment, recorder])
    model.fit(X, y)
    net = final(model)
    # the user's array (the loader's tensor views it) is untouched
    np.testing.assert_array_equal(X, before)
    seen = np.asarray(model[:-1].transform(X) if pipeline else X, np.float32)
    high = net.input_max_
    training = torch.cat(recorder.seen[True]).reshape(-1, SIDE * SIDE)
    # every training input is the inversion of some image, and no image
    assert _nearest(training, high - seen).max() < 1e-5
    assert _nearest(training, seen).min() > 1e-3
    # validation passes see the images as they are
    validation = torch.cat(recorder.seen[False]).reshape(-1, SIDE * SIDE)
    assert _nearest(validation, seen).max() < 1e-5  # cdist rounds
    # the hook is gone, and predicting corrupts nothing
    assert not net.module_._forward_pre_hooks
    assert not augment._handle
    X_pred = X[:5].copy()
    direct = model.predict_proba(X_pred)
    np.testing.assert_array_equal(X_pred, X[:5])
    torch.testing.assert_close(
        torch.as_tensor(direct), torch.as_tensor(model.predict_proba(X[:5]))
    )


@pytest.mark.parametrize("name", ["mlp", "fast"])
def test_same_seed_same_weights(name):
    X, y = data_for(False)

    def weights():
        net = make(
            name, max_epochs=2, callbacks=[RobustAugmentation(probability=0.7)]
        ).fit(X, y)
        return [p.detach().clone() for p in net.module_.parameters()]

    plain = [
        p.detach().clone()
        for p in make(name, max_epochs=2).fit(X, y).module_.parameters()
    ]
    first, second = weights(), weights()
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # and it did change the training
    assert any(not torch.equal(a, b) for a, b in zip(first, plain, strict=True))


@pytest.mark.parametrize("op", OPS)
def test_each_op_changes_images_within_range(op):
    torch.manual_seed(0)
    augment = RobustAugmentation(probability=1.0, ops=[op], depth=1)
    augment.ops_, augment.image_shape_, augment.high_ = [op], (8, 8), 255.0
    x = torch.rand(64, 64) * 200 + 20
    original = x.clone()
    out = augment.augment(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    torch.testing.assert_close(x, original, rtol=0, atol=0)
    assert 0 <= out.min() and out.max() <= 255
    changed = (out - x).abs().amax(dim=1) > 1e-3
    assert changed.float().mean() > 0.9, op


def test_probability_and_depth():
    torch.manual_seed(0)
    augment = RobustAugmentation(probability=0.25, ops=["invert", "flip"], depth=2)
    augment.ops_, augment.image_shape_, augment.high_ = ["invert", "flip"], (4, 4), 1.0
    x = torch.rand(4000, 16)
    out = augment.augment(x)
    changed = (out != x).any(dim=1).float().mean().item()
    assert 0.2 < changed < 0.3
    # probability 0 leaves the batch as it is
    augment.probability = 0.0
    torch.testing.assert_close(augment.augment(x), x, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"probability": 1.5}, "probability must be a float in"),
        ({"probability": "half"}, "probability must be a float in"),
        ({"depth": 0}, "depth must be an int >= 1"),
        ({"ops": "noise"}, "not a string"),
        ({"ops": ["noise", "bogus"]}, "distinct names among"),
        ({"ops": []}, "distinct names among"),
        ({"ops": ["turn"], "image_shape": (4, 9)}, "'turn' needs square images"),
        ({"image_shape": (5, 5)}, "does not hold the 36 features"),
    ],
)
@pytest.mark.parametrize(("name", "pipeline"), CASES, ids=CASE_IDS)
def test_bad_parameters_fail_at_fit(name, pipeline, params, message):
    X, y = data_for(pipeline)
    model = make(name, pipeline, max_epochs=1, callbacks=[RobustAugmentation(**params)])
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_features_that_are_no_square():
    X, y = data_for(False)
    model = make("mlp", max_epochs=1, callbacks=[RobustAugmentation()])
    with pytest.raises(ValueError, match="35 features are no square"):
        model.fit(X[:, :35], y)
    # image_shape says what they are
    model.set_params(callbacks=[RobustAugmentation(image_shape=(5, 7))])
    model.fit(X[:, :35], y)
    assert not final(model).module_._forward_pre_hooks


def test_saved_and_loaded_with_the_model(tmp_path):
    from skfashion import load_model, save_model

    X, y = data_for(True)
    model = make("cnn", True, max_epochs=1, callbacks=[RobustAugmentation(depth=2)])
    model.fit(X, y)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    (callback,) = [
        c for c in final(loaded).callbacks if isinstance(c, RobustAugmentation)
    ]
    assert callback.get_params() == RobustAugmentation(depth=2).get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
