"""Model files: safe save and load, ONNX export.

``save_model`` writes a fitted classifier or pipeline (and, if given, its
fitted novelty detector) as safetensors weights with a JSON header, and
``load_model`` (``load_detector``) reads it back without running any code
from it: the header names classes by their public paths, and only the
classes of :data:`STORABLE` are ever built, each checked against its base.
``export_onnx`` writes the whole pipeline as an ONNX graph (``quantize_onnx``
its int8 twin from it), ``export_triton``
that graph as a Triton model repository. Every file is
written whole or not at all. ``load_predictor`` loads any of them (or a
folder holding one) as a :class:`Predictor`: pictures in, named classes out,
as ``skfashion predict`` and ``skfashion serve`` use a model.
"""

from .._lazy import attach

# imported when first used: the command line and a server of an ONNX graph
# do not wait for PyTorch
_MODULES = {
    "N_CALIBRATION": "._policy",
    "OnnxModel": "._predictor",
    "Predictor": "._predictor",
    "STORABLE": "._storable",
    "calibration_images": "._policy",
    "export_onnx": "._onnx",
    "export_triton": "._triton",
    "find_card": "._card",
    "graph_detector": "._policy",
    "is_model_file": "._format",
    "load_detector": "._model_file",
    "load_model": "._model_file",
    "load_predictor": "._predictor",
    "model_card": "._card",
    "quantize_onnx": "._onnx",
    "save_model": "._model_file",
}

__all__ = sorted(_MODULES)

__getattr__, __dir__ = attach(__name__, _MODULES)
