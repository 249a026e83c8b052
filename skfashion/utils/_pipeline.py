"""A model as its steps and final estimator: a scikit-learn pipeline or a
bare estimator, seen the same way by everything that saves, exports, serves
or plots one."""

__all__ = ["UnsupportedModelError", "split_pipeline"]


class UnsupportedModelError(TypeError, ValueError):
    """A model whose final estimator is not of the kind a function needs.

    Both a ``TypeError`` (the wrong kind of object) and a ``ValueError`` (as
    :func:`~skfashion.save_model` has always documented), as scikit-learn's
    ``NotFittedError`` is both a ``ValueError`` and an ``AttributeError``.
    """


UnsupportedModelError.__module__ = "skfashion.utils"  # where users import it


def split_pipeline(model, final_type=None, *, caller="this function", kind=None):
    """The steps of a model and its final estimator.

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted or unfitted model.
    final_type : type or tuple of types, default=None
        If given, the final estimator must be an instance of it.
    caller : str, default="this function"
        Who asks, for the error message.
    kind : str, default=None
        What the final estimator must be, in words, for the error message
        (default: "a" and the names of ``final_type``).

    Returns
    -------
    steps : list of (name, estimator)
        A pipeline's steps, the final one included; ``[(None, model)]`` for a
        bare estimator.
    final : estimator
        The last step.

    Raises
    ------
    UnsupportedModelError
        If the final estimator is not a ``final_type``.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfashion.utils import split_pipeline
    >>> model = make_pipeline(StandardScaler(), DummyClassifier())
    >>> steps, final = split_pipeline(model)
    >>> [name for name, _ in steps], type(final).__name__
    (['standardscaler', 'dummyclassifier'], 'DummyClassifier')
    >>> split_pipeline(StandardScaler(), DummyClassifier)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skfashion.utils.UnsupportedModelError: this function needs a DummyClassifier, ...
    """
    steps = getattr(model, "steps", None)
    steps = list(steps) if steps else [(None, model)]
    final = steps[-1][1]
    if final_type is not None and not isinstance(final, final_type):
        kinds = final_type if isinstance(final_type, tuple) else (final_type,)
        kind = kind or "a " + " or ".join(k.__name__ for k in kinds)
        raise UnsupportedModelError(
            f"{caller} needs {kind}, or a pipeline ending in one; got "
            f"{type(final).__name__}."
        )
    return steps, final
