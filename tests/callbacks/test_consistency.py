"""ConsistencyTraining: the classification loss on the clean images, a
Jensen-Shannon term tying augmented views to them, for every registered
classifier alone and in a pipeline."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cases import CASE_IDS, CASES, SIDE, data_for, final, make
from skorch.callbacks import Callback

pytest.importorskip("kornia")

from skfashion.callbacks import (  # noqa: E402
    DISJOINT_OPS,
    IN_FAMILY_OPS,
    ConsistencyTraining,
    _consistency,  # noqa: E402
)
from skfashion.datasets import CORRUPTION_FAMILIES, CORRUPTIONS  # noqa: E402


class Spy(Callback):
    """Keeps, for each training batch, what the network received and gave
    (its hook added before ConsistencyTraining's, which keeps the clean
    part: listed before it) and what the criterion received and gave (its
    hook added at the first batch, after ConsistencyTraining's)."""

    def on_train_begin(self, net, **kwargs):
        self.module, self.criterion, self.handles = [], [], []

        def module_hook(module, args, output):
            if module.training:
                self.module.append((args[0].detach(), output.detach()))

        self.handles.append(net.module_.register_forward_hook(module_hook))

    def on_batch_begin(self, net, training=False, **kwargs):
        if len(self.handles) > 1:
            return

        def criterion_hook(criterion, args, loss):
            if torch.is_grad_enabled():  # training, not validation
                self.criterion.append((args[0].detach(), args[1], loss.detach()))

        self.handles.append(net.criterion_.register_forward_hook(criterion_hook))

    def on_train_end(self, net, **kwargs):
        for handle in self.handles:
            handle.remove()


@pytest.mark.parametrize("views", [1, 2])
@pytest.mark.parametrize(("name", "pipeline"), CASES, ids=CASE_IDS)
def test_the_term_ties_the_views_to_the_clean_images(
    name, pipeline, views, monkeypatch
):
    """The network sees each batch and its views at once; the criterion
    receives the clean images' outputs only, and its loss gains the
    weighted Jensen-Shannon divergence of the outputs."""
    terms = []
    real = _consistency.jensen_shannon
    monkeypatch.setattr(
        _consistency,
        "jensen_shannon",
        lambda *logits: terms.append([z.detach() for z in logits]) or real(*logits),
    )
    X, y = data_for(pipeline)
    before = X.copy()
    spy, consistency = Spy(), ConsistencyTraining(weight=3.0, views=views)
    model = make(name, pipeline, max_epochs=1, callbacks=[spy, consistency])
    model.fit(X, y)
    net = final(model)
    np.testing.assert_array_equal(X, before)  # the user's array untouched
    assert len(spy.module) == len(terms) == len(spy.criterion) > 0
    seen = torch.as_tensor(
        np.asarray(model[:-1].transform(X) if pipeline else X, np.float32)
    )
    parts = 1 + views
    for (inputs, outputs), logits, (y_pred, y_true, loss) in zip(
        spy.module, terms, spy.criterion, strict=True
    ):
        n = len(y_true)
        assert len(inputs) == len(outputs) == parts * n
        clean, *others = inputs.reshape(parts * n, -1).float().chunk(parts)
        # the first part is a batch of the training images as they are
        nearest = torch.cdist(clean.double(), seen.double()).min(1).values
        assert nearest.max() < 1e-5
        # the views are other images, each its own
        for view in others:
            assert (view - clean).abs().amax(1).min() > 0
        if views == 2:
            assert not torch.equal(*others)
        # the term is computed on the parts of the output, in order
        assert len(logits) == parts
        for got, part in zip(logits, outputs.chunk(parts), strict=True):
            torch.testing.assert_close(got, part, rtol=0, atol=0)
        # the criterion gets the clean images' outputs and labels only
        torch.testing.assert_close(y_pred, outputs[:n], rtol=0, atol=0)
        plain = net.criterion_(y_pred, y_true)
        term = 3.0 * real(*outputs.chunk(parts))
        expected = plain + (term if plain.ndim else term.mean())
        torch.testing.assert_close(loss, expected.to(loss.dtype))
    assert consistency.last_term_ > 0
    # the hooks are gone: predicting sees the network alone
    assert not net.module_._forward_pre_hooks and not net.module_._forward_hooks
    assert not net.criterion_._forward_hooks
    proba = model.predict_proba(X[:5])
    assert proba.shape == (5, 3)


def test_jensen_shannon_is_zero_for_equal_predictions_and_symmetric():
    torch.manual_seed(0)
    a, b, c = torch.randn(3, 8, 10).unbind()
    zero = _consistency.jensen_shannon(a, a, a)
    torch.testing.assert_close(zero, torch.zeros(8), atol=1e-6, rtol=0)
    first = _consistency.jensen_shannon(a, b, c)
    torch.testing.assert_close(first, _consistency.jensen_shannon(c, a, b))
    assert (first > 0).all() and (first <= np.log(3) + 1e-6).all()
    # two distributions: the textbook divergence, in nats
    p, q = F.softmax(a, 1), F.softmax(b, 1)
    m = (p + q) / 2
    textbook = ((p * (p / m).log()).sum(1) + (q * (q / m).log()).sum(1)) / 2
    torch.testing.assert_close(_consistency.jensen_shannon(a, b), textbook)


@pytest.mark.parametrize("name", ["mlp", "fast"])
def test_same_seed_same_weights_and_it_changes_training(name):
    X, y = data_for(False)

    def weights(callbacks):
        net = make(name, max_epochs=2, callbacks=callbacks).fit(X, y)
        return [p.detach().clone() for p in net.module_.parameters()]

    plain = weights([])
    first = weights([ConsistencyTraining()])
    second = weights([ConsistencyTraining()])
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert any(not torch.equal(a, b) for a, b in zip(first, plain, strict=True))


def test_the_disjoint_ops_are_of_no_fashion_mnist_c_family():
    """Every corruption of Fashion-MNIST-C has a family; the in-family
    operations are those families (RobustAugmentation's), the declared
    disjoint ones none of them."""
    from skfashion.callbacks import _augment

    assert set(CORRUPTION_FAMILIES) == set(CORRUPTIONS)
    families = set(CORRUPTION_FAMILIES.values())
    assert families == set(IN_FAMILY_OPS) == set(_augment.OPS)
    assert not set(DISJOINT_OPS) & set(IN_FAMILY_OPS)
    assert ConsistencyTraining().ops == "disjoint"  # the honest default


@pytest.mark.parametrize("op", DISJOINT_OPS + IN_FAMILY_OPS)
def test_each_op_changes_images_within_range(op):
    torch.manual_seed(0)
    augment = ConsistencyTraining(ops=[op], width=1, depth=1, alpha=1.0)
    # Fashion-MNIST's size: equalize, as Pillow's, leaves an image of
    # fewer than 256 pixels as it is
    augment.image_shape_, augment.high_ = (28, 28), 255.0
    augment.augmentations_ = [_consistency._kornia_op(op)]
    x = (torch.rand(64, 28 * 28) * 200 + 20).round()
    original = x.clone()
    out = augment.augment(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    torch.testing.assert_close(x, original, rtol=0, atol=0)
    assert 0 <= out.min() and out.max() <= 255
    changed = (out - x).abs().amax(dim=1) > 1e-3
    assert changed.float().mean() > 0.5, op


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"weight": 0}, "weight must be a positive float"),
        ({"weight": float("nan")}, "weight must be a positive float"),
        ({"alpha": -1.0}, "alpha must be a positive float"),
        ({"views": 0}, "views must be an int >= 1"),
        ({"width": 1.5}, "width must be an int >= 1"),
        ({"depth": True}, "depth must be an int >= 1"),
        ({"ops": "all"}, "'disjoint', 'in_family' or a list"),
        ({"ops": ["noise", "bogus"]}, "distinct names among"),
        ({"ops": []}, "distinct names among"),
        ({"ops": ["turn"], "image_shape": (4, 9)}, "'turn' needs square images"),
        ({"image_shape": (5, 5)}, "does not hold the 36 features"),
    ],
)
@pytest.mark.parametrize(("name", "pipeline"), CASES, ids=CASE_IDS)
def test_bad_parameters_fail_at_fit(name, pipeline, params, message):
    X, y = data_for(pipeline)
    model = make(
        name, pipeline, max_epochs=1, callbacks=[ConsistencyTraining(**params)]
    )
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_saved_and_loaded_with_the_model(tmp_path):
    from skfashion import load_model, save_model

    X, y = data_for(True)
    given = ConsistencyTraining(weight=6.0, views=1, ops=["equalize", "translate"])
    model = make("cnn", True, max_epochs=1, callbacks=[given])
    model.fit(X, y)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    (callback,) = [
        c for c in final(loaded).callbacks if isinstance(c, ConsistencyTraining)
    ]
    assert callback.get_params() == given.get_params()
    assert not given.handles_ and given.pending_term_ is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert SIDE * SIDE == X.shape[1]
