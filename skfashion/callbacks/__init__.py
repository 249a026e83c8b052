"""Callbacks: what happens during training, as skorch callbacks.

Like :mod:`skorch.callbacks`, and used the same way: the classifiers build
the defaults they need (``BatchAccuracy``, ``L2Gradient``,
``AdaptiveThreads``, ``ReuseFreedMemory``, ``ResumeCheckpoint``, ``ProgressBar``, and
FastFashionCNN's ``TriangularLR``, ``Lookahead`` and ``PatchWhitening``), and
any of them can be given to any classifier's ``callbacks`` parameter, e.g.
``FashionMLP(callbacks=[OneCycle()])``; ``RobustAugmentation`` and
``ConsistencyTraining`` are opt-in. Model files name them by these
public paths.
"""

from ._augment import RobustAugmentation
from ._consistency import DISJOINT_OPS, IN_FAMILY_OPS, ConsistencyTraining
from ._lr_scheduler import OneCycle, TriangularLR
from ._memory import ReuseFreedMemory
from ._regularization import L2Gradient, dense_kernels, l2_penalty
from ._resume import ResumeCheckpoint, checkpoint_path, saved_epochs
from ._scoring import BatchAccuracy, ProgressBar
from ._threads import AdaptiveThreads
from ._weights import Lookahead, PatchWhitening

__all__ = [
    "AdaptiveThreads",
    "BatchAccuracy",
    "ConsistencyTraining",
    "DISJOINT_OPS",
    "IN_FAMILY_OPS",
    "L2Gradient",
    "Lookahead",
    "OneCycle",
    "PatchWhitening",
    "ProgressBar",
    "ResumeCheckpoint",
    "RobustAugmentation",
    "ReuseFreedMemory",
    "TriangularLR",
    "checkpoint_path",
    "dense_kernels",
    "l2_penalty",
    "saved_epochs",
]
