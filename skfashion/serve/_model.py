"""What the server needs to know of a model: its classes, the pixels it
takes, and a ``predict_proba`` on rows of 0-255 pixels."""

import math

import numpy as np

from ..datasets._fashion_mnist import class_name
from ..preprocessing import ImagePreprocessor

__all__ = ["ServedModel"]


class ServedModel:
    """A fitted classifier (a pipeline, an skfashion classifier, or a model
    run by onnxruntime) seen the way the server uses it.

    A pipeline that starts with :class:`~skfashion.preprocessing.ImagePreprocessor`
    is served from its second step: the server converts the pictures
    itself, the same way, so that it can show what the model receives.
    """

    def __init__(self, model):
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise TypeError(
                f"can only serve a fitted classifier with predict_proba, got "
                f"{type(model).__name__}"
            )
        steps = getattr(model, "steps", None)
        self.side = None
        if steps and isinstance(steps[0][1], ImagePreprocessor):
            self.side = steps[0][1].size
            model = model[1:] if len(steps) > 1 else None
            if model is None:
                raise TypeError("the pipeline holds only an ImagePreprocessor")
        self.model = model
        self.classes = np.asarray(model.classes_)
        self.names = [class_name(c) for c in self.classes.tolist()]
        n_features = self._n_features(model)
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise TypeError(f"the model takes {n_features} features, not a picture")
        self.side = self.side or side
        self.n_features = self.side**2
        self.platform = "onnxruntime" if hasattr(model, "session") else "skfashion"

    @staticmethod
    def _n_features(model):
        n = getattr(model, "n_features_in_", None)
        if n is None and hasattr(model, "input"):  # an ONNX graph
            n = model.input.shape[-1]
        return int(n) if isinstance(n, int | np.integer) else 784

    def predict_proba(self, X):
        """Probabilities for rows of 0-255 pixels, as float32."""
        return np.asarray(self.model.predict_proba(X), dtype=np.float32)

    def describe(self):
        """One line: what is served."""
        inner = getattr(self.model, "steps", [(None, self.model)])[-1][1]
        kind = type(inner).__name__
        if self.platform == "onnxruntime":
            kind = "ONNX graph"
        return (
            f"{kind}, {self.side}x{self.side} pictures -> {len(self.classes)} "
            f"classes ({', '.join(self.names[:3])}, ...)"
        )
