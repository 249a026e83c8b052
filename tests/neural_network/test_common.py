"""scikit-learn's whole estimator suite on skfashion's estimators."""

import pytest
from cases import CHECKS, CHECKS_TRAINING
from sklearn.utils.estimator_checks import parametrize_with_checks

from skfashion.neural_network import CLASSIFIERS
from skfashion.preprocessing import ImagePreprocessor, PixelScaler

TRANSFORMERS = (ImagePreprocessor, PixelScaler)

# Every registered estimator, with cases.py's settings for these checks
# (precision is left at "auto" on purpose).
ESTIMATORS = [
    *(cls() for cls in TRANSFORMERS),
    *(cls(**{**CHECKS_TRAINING, **CHECKS[name]}) for name, cls in CLASSIFIERS.items()),
]


def test_every_classifier_has_check_settings():
    assert set(CHECKS) == set(CLASSIFIERS)


# Stochastic mini-batch training: a sample of weight 2 is not the same as
# the sample twice, because duplicating a sample changes the batches (their
# composition, their count and the shuffling order). Weights of all ones
# (check_sample_weights_invariance) are bit-identical to no weights, and
# neural_network/test_contracts.py checks what weights must do instead.
SAMPLE_WEIGHT_REASON = (
    "mini-batch SGD: weight 2 changes the loss, duplicating a sample changes "
    "the batches, so the two are not equivalent"
)


def expected_failed_checks(estimator):
    if isinstance(estimator, TRANSFORMERS):
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_REASON}


# check_set_params fuzzes ``callbacks`` with inf, which skorch's set_params
# rejects with a TypeError; scikit-learn only warns about it.
@pytest.mark.filterwarnings("ignore:TypeError occurred during set_params")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_skorch_private_overrides_still_exist():
    """The few private skorch methods skfashion overrides (each with a comment
    naming the public hook skorch lacks) exist in the installed skorch with
    the same parameters: an upgrade that renames or changes one fails here,
    not in a user's fit."""
    import inspect

    from skorch import NeuralNet

    from skfashion.neural_network import _components, _device

    for mixin, names in [
        (_device.DeviceMixin, _device.SKORCH_PRIVATE),
        (_components.ComponentsMixin, _components.SKORCH_PRIVATE),
    ]:
        for name in names:
            ours, theirs = getattr(mixin, name), getattr(NeuralNet, name)
            assert inspect.signature(ours) == inspect.signature(theirs), name
    private = {
        name
        for cls in (_device.DeviceMixin, _components.ComponentsMixin)
        for name in vars(cls)
        if name.startswith("_")
        and not name.startswith("__")
        and hasattr(NeuralNet, name)
    }
    # _default_callbacks: the property skorch's docs tell subclasses to extend
    expected = {*_device.SKORCH_PRIVATE, *_components.SKORCH_PRIVATE}
    assert private == expected | {"_default_callbacks"}
