"""The callbacks that act on the weights: PatchWhitening and Lookahead."""

import numpy as np
import torch
from cases import MAKERS


def test_fast_cnn_whitening():
    from skfashion.modules import FastCNNModule

    # correlated pixels: the whitened 2x2 patches have unit covariance
    rng = np.random.RandomState(0)
    base = rng.normal(size=(500, 1, 9, 9))
    images = torch.nn.functional.avg_pool2d(torch.as_tensor(base), 2, 1)  # 8x8
    images = (images.reshape(500, -1) * 0.2 + 0.5).float()
    module = FastCNNModule(3, image_shape=(8, 8), widths=(4,), channels_last=False)
    module.fit_whitening(images, eps=0.0)
    with torch.no_grad():
        out = module.whiten(images.reshape(-1, 1, 8, 8))[:, :4]  # then negated
    out = out.permute(0, 2, 3, 1).reshape(-1, 4).double()
    torch.testing.assert_close(
        out.mean(0), torch.zeros(4, dtype=torch.float64), atol=1e-3, rtol=0
    )
    cov = torch.cov(out.T)
    torch.testing.assert_close(
        cov, torch.eye(4, dtype=torch.float64), atol=2e-2, rtol=0
    )
    # a fit sets it from its training images: the first layer is no longer
    # its random initialisation, and the same in every fit
    X = images.numpy()
    y = np.arange(500) % 3
    fits = [
        MAKERS["fast"](image_shape=(8, 8), max_epochs=0).fit(X, y) for _ in range(2)
    ]
    fresh = FastCNNModule(3, image_shape=(8, 8), widths=(4, 8))
    weights = [f.module_.whiten.weight.detach() for f in fits]
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)
    assert not torch.allclose(weights[0], fresh.whiten.weight)
    # whiten=False: an ordinary convolution, trained, not set from the data
    plain = MAKERS["fast"](image_shape=(8, 8), max_epochs=0, whiten=False).fit(X, y)
    assert plain.module_.whiten.weight.requires_grad
    assert not torch.allclose(plain.module_.whiten.weight, weights[0])


def test_lookahead_pulls_weights_to_their_average(blobs):
    # a pull of 1 at every step keeps the weights where each epoch began:
    # the average they are pulled to
    X, y = blobs
    kwargs = {"max_epochs": 2, "validation_split": None}
    start = MAKERS["fast"](**{**kwargs, "max_epochs": 0}).fit(X, y)
    frozen = MAKERS["fast"](
        callbacks__lookahead__pull=1.0,
        callbacks__lookahead__power=0.0,
        callbacks__lookahead__every=1,
        **kwargs,
    ).fit(X, y)
    trained = MAKERS["fast"](**kwargs).fit(X, y)
    for key, value in start.module_.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(frozen.module_.state_dict()[key], value)
    assert not torch.equal(
        trained.module_.head[-1].weight, start.module_.head[-1].weight
    )
