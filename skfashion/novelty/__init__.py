"""Novelty detection: is an image a garment at all?"""

from ._detector import METHODS, NoveltyDetector

__all__ = ["METHODS", "NoveltyDetector"]
