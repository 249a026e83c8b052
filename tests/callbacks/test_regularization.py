"""Keras' L2 kernel penalty: its value and its gradient (L2Gradient)."""

import pytest
import torch
from cases import MAKERS, tiny_mlp

from skfashion.callbacks import dense_kernels


def test_l2_penalty_is_keras_kernel_regularizer(blobs):
    X, y = blobs
    clf = tiny_mlp(hidden_units=(16, 8)).fit(X, y)
    Xt = torch.as_tensor(X)
    yt = torch.as_tensor(y)
    with torch.no_grad():
        y_pred = clf.module_.eval()(Xt)
        with_l2 = float(clf.get_loss(y_pred, yt))
        clf.l2 = 0
        without = float(clf.get_loss(y_pred, yt))
    kernels = [
        m.weight for m in clf.module_.modules() if isinstance(m, torch.nn.Linear)
    ]
    expected = 1e-4 * sum(float((w.detach() ** 2).sum()) for w in kernels)
    assert with_l2 - without == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS)
def test_l2_gradient_is_the_penalty_gradient(make, blobs):
    # the penalty's gradient is added in place after backward (the l2
    # callback): it must equal autograd's gradient of l2 * sum(w ** 2)
    # -- as every callback after it sees them (gradient clipping, say)
    from skorch.callbacks import Callback

    class Seen(Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            # frozen weights (FastFashionCNN's whitening) have no gradient
            self.grads_ = [
                None if p.grad is None else p.grad.clone() for _, p in named_parameters
            ]

    X, y = blobs
    seen = Seen()
    # the reference below is a plain cross-entropy of one forward pass: no
    # random augmentation, no label smoothing (FastFashionCNN's defaults)
    plain = {"flip": False, "crop_padding": 0, "label_smoothing": 0.0, "tta": False}
    extra = plain if make.args == ("fast",) else {}
    clf = make(l2=0.05, max_epochs=0, validation_split=None, callbacks=[seen], **extra)
    clf.fit(X, y)
    batch = (torch.as_tensor(X[:16]), torch.as_tensor(y[:16]))
    for group in clf.optimizer_.param_groups:
        group["lr"] = 0.0  # a whole step that leaves the weights as they are
    clf.train_step(batch)
    ours = seen.grads_
    clf.optimizer_.zero_grad()
    kernels = {id(w) for w in dense_kernels(clf.module_)}
    clf.module_.train()
    with torch.autocast(
        "cpu", dtype=torch.bfloat16, enabled=clf.precision_ == "bfloat16"
    ):
        logits = clf.module_(batch[0])
    loss = torch.nn.functional.cross_entropy(logits.float(), batch[1])
    loss = loss + 0.05 * sum(w.square().sum() for w in dense_kernels(clf.module_))
    loss.backward()
    for p, grad in zip(clf.module_.parameters(), ours, strict=True):
        if grad is None:
            assert p.grad is None
        else:
            torch.testing.assert_close(grad, p.grad, rtol=1e-4, atol=1e-6)
    assert len(kernels) == sum(
        isinstance(m, torch.nn.Linear) for m in clf.module_.modules()
    )
