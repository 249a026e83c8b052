"""The report's model files: each model's first fit as a safe model file
(with its novelty detector), a pickle, and with ``--onnx`` an ONNX graph
(and its int8 twin)."""

import joblib

from skfashion import export_onnx, save_model

__all__ = ["write_models"]

N_CALIBRATION = 500  # the last training images calibrate an int8 graph


def write_models(folder, pipe, data, detector, onnx=None):
    """model.safetensors (with its novelty ``detector``: ``skfashion
    predict`` says which pictures are not garments) and model.pkl; with
    ``onnx`` ("float32" or "int8") model.onnx, and with "int8"
    model-int8.onnx beside it, each giving the detector's garment_score
    too (a graph computes the energy and msp scores)."""
    joblib.dump(pipe, folder / "model.pkl")
    save_model(pipe, folder / "model.safetensors", detector=detector)
    if detector is not None and detector.method not in ("energy", "msp"):
        detector = None
    if onnx:
        export_onnx(pipe, folder / "model.onnx", detector=detector)
    if onnx == "int8":
        calibration = data.X[-N_CALIBRATION:]
        export_onnx(
            pipe,
            folder / "model-int8.onnx",
            quantize="int8",
            calibration=calibration,
            detector=detector,
        )
