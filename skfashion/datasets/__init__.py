"""Loaders for Fashion-MNIST and other IDX data sets."""

from ._fashion_mnist import (
    CLASS_NAMES,
    SYSTEM_DATA_DIR,
    class_name,
    fetch_fashion_mnist,
    locate_fashion_mnist,
)
from ._idx import load_idx, save_idx

__all__ = [
    "CLASS_NAMES",
    "SYSTEM_DATA_DIR",
    "class_name",
    "fetch_fashion_mnist",
    "load_idx",
    "locate_fashion_mnist",
    "save_idx",
]
