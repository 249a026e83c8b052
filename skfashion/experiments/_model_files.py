"""The report's model files: each model's first fit as a safe model file
(with its novelty detector), a pickle, and with ``onnx`` an ONNX graph
(and its int8 twin)."""

import importlib.util

import joblib
import numpy as np

from ..io import (
    OnnxModel,
    calibration_images,
    export_onnx,
    graph_detector,
    model_card,
    quantize_onnx,
    save_model,
)

__all__ = ["write_card", "write_models"]


def write_models(folder, pipe, data, detector, onnx=None):
    """model.safetensors (with its novelty ``detector``: ``skfashion
    predict`` says which pictures are not garments) and model.pkl; with
    ``onnx`` ("float32" or "int8") model.onnx, and with "int8"
    model-int8.onnx beside it, each giving the detector's garment_score
    too where a graph computes it (:func:`~skfashion.io.graph_detector`).

    Returns the graphs written, and with "int8" the int8 graph's numbers
    (``{"test_accuracy": ...}`` on the run's test images)."""
    joblib.dump(pipe, folder / "model.pkl")
    save_model(pipe, folder / "model.safetensors", detector=detector)
    detector, _ = graph_detector(detector)
    if onnx:
        export_onnx(pipe, folder / "model.onnx", detector=detector)
    if not onnx:
        return [], {}
    if onnx == "float32":
        return [folder / "model.onnx"], {}
    # from the float graph: the network is exported once
    int8 = folder / "model-int8.onnx"
    quantize_onnx(folder / "model.onnx", int8, calibration_images(data.X))
    graph = OnnxModel(int8)
    predicted = graph.classes_[np.argmax(graph.predict_proba(data.X_test), axis=1)]
    accuracy = float(np.mean(predicted == data.y_test))
    return [folder / "model.onnx", int8], {"int8": {"test_accuracy": accuracy}}


def write_card(folder, numbers, graphs=()):
    """README.md: the model card of model.safetensors, from the run's own
    ``numbers`` (:func:`~skfashion.io.model_card`), where huggingface_hub
    (the ``cards`` extra) is installed."""
    if importlib.util.find_spec("huggingface_hub") is None:
        return
    card = model_card(
        folder / "model.safetensors", numbers, title=numbers["model"], graphs=graphs
    )
    card.save(folder / "README.md")
