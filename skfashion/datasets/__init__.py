"""Loaders for Fashion-MNIST and other IDX data sets; Fashion-MNIST-C
regenerated from it."""

from ._corruptions import (
    CORRUPTION_FAMILIES,
    CORRUPTIONS,
    corrupt_images,
    make_fashion_mnist_c,
)
from ._fashion_mnist import (
    CLASS_NAMES,
    SYSTEM_DATA_DIR,
    class_name,
    fetch_fashion_mnist,
    locate_fashion_mnist,
)
from ._idx import load_idx, save_idx
from ._not_garments import NOT_GARMENTS, make_not_garments

__all__ = [
    "CLASS_NAMES",
    "CORRUPTIONS",
    "CORRUPTION_FAMILIES",
    "NOT_GARMENTS",
    "SYSTEM_DATA_DIR",
    "class_name",
    "corrupt_images",
    "fetch_fashion_mnist",
    "load_idx",
    "locate_fashion_mnist",
    "make_fashion_mnist_c",
    "make_not_garments",
    "save_idx",
]
