"""What the command line and the report say about each registered classifier.

Kept apart from the registry (``_registry.py``) because reading it imports
no estimator, hence no PyTorch: ``skfashion --help`` lists the models from
here. A test checks that it names exactly the registry's classifiers.
"""

__all__ = ["ORIGINAL", "TITLES"]

#: Each classifier's title, by the short name of the registry.
TITLES = {
    "mlp": "Dense network (FashionMLP)",
    "cnn": "Convolutional network (FashionCNN)",
    "fast": "Modern CNN (FastFashionCNN)",
}

#: The original 2020 report's two models: their epochs and test accuracy.
ORIGINAL = {
    "mlp": {"epochs": 10, "test_accuracy": 0.8913},
    "cnn": {"epochs": 10, "test_accuracy": 0.9193},
}
