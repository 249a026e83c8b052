"""The one list of skfashion's classifiers, by the short name the command
line uses for them.

Reading it imports no estimator, hence no PyTorch: ``skfashion --help``
lists the models from here, and :data:`skfashion.neural_network.CLASSIFIERS`
turns the class names into the classes (a test checks that every public
classifier of the package is listed).
"""

__all__ = ["MODELS", "ORIGINAL", "TITLES"]

#: Each classifier: its class in :mod:`skfashion.neural_network`, its title,
#: and for the original 2020 report's two models their epochs and test
#: accuracy.
MODELS = {
    "mlp": {
        "estimator": "FashionMLP",
        "title": "Dense network (FashionMLP)",
        "original": {"epochs": 10, "test_accuracy": 0.8913},
    },
    "cnn": {
        "estimator": "FashionCNN",
        "title": "Convolutional network (FashionCNN)",
        "original": {"epochs": 10, "test_accuracy": 0.9193},
    },
    "fast": {
        "estimator": "FastFashionCNN",
        "title": "Modern CNN (FastFashionCNN)",
        "original": None,
    },
}

#: Each classifier's title, by short name.
TITLES = {name: model["title"] for name, model in MODELS.items()}

#: The original 2020 report's two models: their epochs and test accuracy.
ORIGINAL = {name: m["original"] for name, m in MODELS.items() if m["original"]}
