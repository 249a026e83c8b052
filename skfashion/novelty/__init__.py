"""Novelty detection: is an image a garment at all?"""

from ._detector import METHODS, NoveltyDetector, fit_detectors

__all__ = ["METHODS", "NoveltyDetector", "fit_detectors"]
