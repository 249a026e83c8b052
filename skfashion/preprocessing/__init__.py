"""Preprocessing: what comes before a classifier in a pipeline.

``PixelScaler`` divides 0-255 pixels by 255, as the original report did;
``ImagePreprocessor`` and ``preprocess_image`` turn photos into
Fashion-MNIST's 28x28 grey images.
"""

from ._image import ImagePreprocessor, preprocess_image
from ._scaler import PixelScaler

__all__ = ["ImagePreprocessor", "PixelScaler", "preprocess_image"]
