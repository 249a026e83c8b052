"""A novelty detector in a model file: its parameters and threshold in the
JSON header, its class means and covariance as tensors. No pickle."""

import math
import numbers

import numpy as np
import torch

from ..novelty import METHODS, NoveltyDetector

__all__ = ["PREFIX", "detector_from_file", "detector_to_file"]

#: the detector's tensors in the file, beside the network's
PREFIX = "novelty."
_ARRAYS = ("class_means", "covariance", "precision", "location")
_VIM = ("origin", "null_space", "alpha")


def detector_to_file(detector, model):
    """``(header entry, tensors)`` of a fitted detector of ``model``."""
    if not isinstance(detector, NoveltyDetector):
        raise ValueError(
            f"save_model's detector must be a NoveltyDetector, got "
            f"{type(detector).__name__}."
        )
    if not hasattr(detector, "offset_"):
        raise ValueError("save_model's detector is not fitted: call its fit first.")
    wrapped = getattr(detector.estimator, "estimator", detector.estimator)
    if detector.estimator is not model and wrapped is not model:
        raise ValueError(
            "save_model's detector must be one fitted on the model saved "
            "(NoveltyDetector(model).fit(X)); this one wraps another."
        )
    seed = detector.random_state
    entry = {
        "params": {
            "method": detector.method,
            "accept": float(detector.accept),
            "holdout": float(detector.holdout),
            "random_state": int(seed) if isinstance(seed, numbers.Integral) else None,
        },
        "offset": float(detector.offset_),
        "n_features_in": int(detector.n_features_in_),
    }
    arrays = {}
    if detector.method == "mahalanobis":
        cov = detector.covariance_
        values = (detector.class_means_, cov.covariance_, cov.precision_, cov.location_)
        arrays = dict(zip(_ARRAYS, values, strict=True))
    elif detector.method == "vim":
        values = (detector.vim_origin_, detector.vim_null_space_, detector.vim_alpha_)
        arrays = dict(zip(_VIM, values, strict=True))
    tensors = {
        PREFIX + name: torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64))
        for name, array in arrays.items()
    }
    return entry, tensors


def detector_from_file(entry, tensors, model, path):
    """The fitted detector a file holds, over ``model`` (ValueError naming
    the file and the field if the entry is malformed)."""
    from sklearn.covariance import LedoitWolf

    def malformed(field, problem):
        return ValueError(
            f"{path}: malformed skfashion model header (field 'novelty.{field}': "
            f"{problem})."
        )

    if not isinstance(entry, dict) or not isinstance(entry.get("params"), dict):
        raise malformed("params", "not an object")
    params = dict(entry["params"])
    if params.get("method") not in METHODS:
        raise malformed("params.method", f"not one of {', '.join(METHODS)}")
    for name in ("accept", "holdout"):
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise malformed(f"params.{name}", "not a number")
    seed = params.get("random_state")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise malformed("params.random_state", "not an integer or null")
    offset = entry.get("offset")
    if isinstance(offset, bool) or not isinstance(offset, numbers.Real):
        raise malformed("offset", "not a number")
    if not math.isfinite(offset):
        raise malformed("offset", "not finite")
    detector = NoveltyDetector(model, **params)
    try:
        detector._check_params()
    except ValueError as exc:
        raise malformed("params", exc) from None
    detector.offset_ = float(offset)
    detector.n_features_in_ = int(entry.get("n_features_in") or 0)
    if detector.method == "mahalanobis":
        arrays = _mahalanobis_arrays(tensors, path)
        detector.class_means_ = arrays["class_means"]
        covariance = LedoitWolf(assume_centered=True)
        covariance.covariance_ = arrays["covariance"]
        covariance.precision_ = arrays["precision"]
        covariance.location_ = arrays["location"]
        detector.covariance_ = covariance
    elif detector.method == "vim":
        arrays = _vim_arrays(tensors, path)
        detector.vim_origin_ = arrays["origin"]
        detector.vim_null_space_ = arrays["null_space"]
        detector.vim_alpha_ = float(arrays["alpha"][0])
    elif tensors:
        raise ValueError(f"{path}: unexpected detector tensors for {detector.method}.")
    return detector


def _arrays(tensors, names, path):
    missing = [name for name in names if PREFIX + name not in tensors]
    extra = sorted(set(tensors) - {PREFIX + name for name in names})
    if missing or extra:
        what = f"missing {missing[0]!r}" if missing else f"unexpected {extra[0]!r}"
        raise ValueError(f"{path}: the detector's tensors are incomplete ({what}).")
    return {name: tensors[PREFIX + name].double().numpy() for name in names}


def _vim_arrays(tensors, path):
    arrays = _arrays(tensors, _VIM, path)
    origin, null_space, alpha = arrays["origin"], arrays["null_space"], arrays["alpha"]
    if (
        origin.ndim != 1
        or null_space.ndim != 2
        or null_space.shape[0] != len(origin)
        or alpha.shape != (1,)
        or not np.isfinite(alpha).all()
    ):
        raise ValueError(
            f"{path}: the detector's tensors do not fit together (origin "
            f"{list(origin.shape)}, null space {list(null_space.shape)}, alpha "
            f"{list(alpha.shape)})."
        )
    return arrays


def _mahalanobis_arrays(tensors, path):
    arrays = _arrays(tensors, _ARRAYS, path)
    means, cov = arrays["class_means"], arrays["covariance"]
    d = means.shape[-1] if means.ndim == 2 else -1
    shapes_fit = (
        means.ndim == 2
        and cov.shape == (d, d)
        and arrays["precision"].shape == (d, d)
        and arrays["location"].shape == (d,)
    )
    if not shapes_fit:
        raise ValueError(
            f"{path}: the detector's tensors do not fit together (class means "
            f"{list(means.shape)}, covariance {list(cov.shape)})."
        )
    return arrays
