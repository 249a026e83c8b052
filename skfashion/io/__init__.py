"""Model files: safe save and load, ONNX export.

``save_model`` writes a fitted classifier or pipeline as safetensors weights
with a JSON header, and ``load_model`` reads it back without running any
code from it: the header names classes by their public paths, and only the
classes of :data:`STORABLE` are ever built, each checked against its base.
``export_onnx`` writes the whole pipeline as an ONNX graph. Every file is
written whole or not at all.
"""

from ._model_file import is_model_file, load_model, save_model
from ._onnx import export_onnx
from ._storable import STORABLE

__all__ = ["STORABLE", "export_onnx", "is_model_file", "load_model", "save_model"]
