"""Keras' L2 kernel penalty: its value and its gradient, in one place.

``kernel_regularizer=l2(l2)`` adds ``l2 * sum(w ** 2)`` over the dense
kernels (not biases, BatchNorm or convolutions) to the loss. Autograd would
square a copy of every kernel at each step and keep it for the backward
pass, a quarter to a third of a dense-net step on the CPU; here the value is
computed without a graph (:func:`l2_penalty`, added to the loss by the net's
``get_loss``) and its gradient ``2 * l2 * w`` is added to the kernels'
gradients in place (:class:`L2Gradient`, a callback on skorch's
``on_grad_computed`` hook, the one its gradient clipping uses).
"""

import torch
from skorch.callbacks import Callback
from torch import nn

__all__ = ["L2Gradient", "dense_kernels", "l2_penalty"]


def dense_kernels(module):
    """The weights of every ``nn.Linear`` of ``module``: what Keras'
    ``kernel_regularizer`` of a ``Dense`` layer penalizes.

    Examples
    --------
    >>> import torch
    >>> from skfashion.callbacks import dense_kernels
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Linear(4, 3))
    >>> [tuple(w.shape) for w in dense_kernels(net)]
    [(3, 4)]
    """
    return [m.weight for m in module.modules() if isinstance(m, nn.Linear)]


def l2_penalty(module, l2):
    """``l2 * sum(w ** 2)`` over the dense kernels, as a value (no gradient).

    Examples
    --------
    >>> import torch
    >>> from skfashion.callbacks import l2_penalty
    >>> layer = torch.nn.Linear(2, 1, bias=False)
    >>> _ = layer.weight.data.copy_(torch.tensor([[3.0, 4.0]]))
    >>> float(l2_penalty(layer, 0.01))
    0.25
    """
    with torch.no_grad():
        norms = torch._foreach_norm(dense_kernels(module))
        return l2 * torch.stack(norms).square().sum()


class L2Gradient(Callback):
    """Add the gradient of the net's L2 penalty, ``2 * l2 * w``, to the dense
    kernels' gradients after the backward pass, before any callback after it
    (gradient clipping, say) sees them. A default callback of every
    skfashion estimator; it reads the net's ``l2`` and ``module_``.

    Examples
    --------
    >>> from skfashion import FashionMLP
    >>> from skfashion.callbacks import L2Gradient
    >>> isinstance(FashionMLP(l2=1e-4).get_params()["callbacks__l2"], L2Gradient)
    True
    """

    def on_grad_computed(self, net, named_parameters, **kwargs):
        if not net.l2:
            return
        kernels = [w for w in dense_kernels(net.module_) if w.grad is not None]
        torch._foreach_add_([w.grad for w in kernels], kernels, alpha=2 * net.l2)
