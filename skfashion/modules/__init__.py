"""The networks: plain PyTorch modules, no scikit-learn, no skorch.

Each takes flat inputs of shape ``(batch, n_features)`` and returns logits.
The classifiers build them from their parameters (their ``module``
parameter); they can be used, trained and exported on their own too.
"""

from ._cnn import CNNModule
from ._fast import FastCNNModule
from ._layers import ACTIVATIONS, augment_batch, keras_init_
from ._mlp import MLPModule

__all__ = [
    "ACTIVATIONS",
    "CNNModule",
    "FastCNNModule",
    "MLPModule",
    "augment_batch",
    "keras_init_",
]
