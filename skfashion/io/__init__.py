"""Model files: safe save and load, ONNX export.

``save_model`` writes a fitted classifier or pipeline (and, if given, its
fitted novelty detector) as safetensors weights with a JSON header, and
``load_model`` (``load_detector``) reads it back without running any code
from it: the header names classes by their public paths, and only the
classes of :data:`STORABLE` are ever built, each checked against its base.
``export_onnx`` writes the whole pipeline as an ONNX graph, ``export_triton``
that graph as a Triton model repository. Every file is
written whole or not at all. ``load_predictor`` loads any of them (or a
folder holding one) as a :class:`Predictor`: pictures in, named classes out,
as ``skfashion predict`` and ``skfashion serve`` use a model.
"""

from ._model_file import is_model_file, load_detector, load_model, save_model
from ._onnx import export_onnx
from ._predictor import OnnxModel, Predictor, load_predictor
from ._storable import STORABLE
from ._triton import export_triton

__all__ = [
    "STORABLE",
    "OnnxModel",
    "Predictor",
    "export_onnx",
    "export_triton",
    "is_model_file",
    "load_detector",
    "load_model",
    "load_predictor",
    "save_model",
]
