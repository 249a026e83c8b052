"""The report's model files: each model's first fit as a safe model file
(with its novelty detector), a pickle, and with ``onnx`` an ONNX graph
(and its int8 twin)."""

import importlib.util

import joblib

from ..io import (
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
    too where a graph computes it (:func:`~skfashion.io.graph_detector`)."""
    joblib.dump(pipe, folder / "model.pkl")
    save_model(pipe, folder / "model.safetensors", detector=detector)
    detector, _ = graph_detector(detector)
    if onnx:
        export_onnx(pipe, folder / "model.onnx", detector=detector)
    if onnx == "int8":  # from the float graph: the network is exported once
        quantize_onnx(
            folder / "model.onnx",
            folder / "model-int8.onnx",
            calibration_images(data.X),
        )


def write_card(folder, numbers):
    """README.md: the model card of model.safetensors, from the run's own
    ``numbers`` (:func:`~skfashion.io.model_card`), where huggingface_hub
    (the ``cards`` extra) is installed."""
    if importlib.util.find_spec("huggingface_hub") is None:
        return
    card = model_card(folder / "model.safetensors", numbers, title=numbers["model"])
    card.save(folder / "README.md")
