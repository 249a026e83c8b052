"""Model cards: what a saved model is, how it was trained and where it can
be trusted, in the format of Hugging Face's model cards."""

import importlib.util
from pathlib import Path

from ._card_body import _need_hub, _sha256, build_card

__all__ = ["find_card", "model_card"]


def model_card(path, evaluation=None, *, title=None, graphs=()):
    """A model card of a model file: what it is, how it was trained, how
    accurate it is and where it can be trusted.

    The card is a :class:`huggingface_hub.ModelCard` (the ``cards`` extra):
    a ``README.md`` whose YAML header holds ``model-index`` results (test
    accuracy, mixed Fashion-MNIST-C accuracy, the detector's AUROC against
    digits) that the Hugging Face Hub and ``ModelCard.load`` read, and a
    readable body. Its details (architecture, parameters, precision,
    classes, training settings, the SHA-256 of the file) come from the
    file; its numbers from ``evaluation``, which it refuses where the file
    cannot back them (a detector's numbers for a file without one).

    Parameters
    ----------
    path : str or path-like
        A model file written by :func:`save_model`.
    evaluation : dict, default=None
        The model's numbers, as ``skfashion report`` records them for each
        model in ``metrics.json``: ``test_accuracy``, ``ece`` and
        ``ece_temperature`` (the model's own: with ``runs``, those of the
        first run, the model saved; the others' mean and
        ``test_accuracy_ci95`` are given as such), ``recall`` and
        ``shift`` (the numbers of
        :class:`~skfashion.evaluation.ShiftEvaluation`) and ``int8``
        (``{"test_accuracy": ...}`` of the int8 graph, which ``graphs``
        must hold); each is optional.
    title : str, default=None
        The card's title; None: the classifier's name.
    graphs : sequence of path-like, default=()
        ONNX graphs exported from the model (:func:`export_onnx`,
        :func:`quantize_onnx`): the card names each, with its SHA-256 and
        precision.

    Returns
    -------
    card : huggingface_hub.ModelCard
        ``card.save(folder / "README.md")`` writes it.

    Raises
    ------
    ValueError
        If ``evaluation`` claims what the file does not hold (a detector's
        numbers without a detector, an int8 figure without an int8 graph),
        or a graph was not exported from this model.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from skfashion import FashionMLP, save_model
    >>> from skfashion.io import model_card
    >>> X = np.random.RandomState(0).rand(40, 16).astype(np.float32)
    >>> clf = FashionMLP(hidden_units=(8,), max_epochs=1).fit(X, np.arange(40) % 2)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.safetensors"
    >>> save_model(clf, path)
    >>> card = model_card(path, {"test_accuracy": 0.9})
    >>> card.data.eval_results[0].metric_value
    0.9
    """
    from ._model_file import load_with_detector

    _need_hub()
    model, detector = load_with_detector(path)
    final = model[-1] if hasattr(model, "steps") else model
    return build_card(final, detector, path, evaluation, title=title, graphs=graphs)


#: the largest README.md that :func:`find_card` reads (a card is a few KB)
MAX_CARD_BYTES = 2**20


def find_card(path, *, build=False):
    """The model card beside a model file, if it is that file's.

    ``README.md`` in the file's folder, as :func:`model_card` (through
    ``skfashion report`` or ``save_model(..., card=...)``) writes it, is
    the file's card when it names the file's SHA-256; ``skfashion export``
    and ``skfashion serve`` carry it.

    Parameters
    ----------
    path : str or path-like
        A model file (or an ONNX graph named in the card).
    build : bool, default=False
        Where ``path`` has no card beside it and is a model file of
        :func:`save_model`, build one from the file alone
        (``model_card(path)``: its details, no numbers).

    Returns
    -------
    card : huggingface_hub.ModelCard or None
        None where there is no README.md beside ``path`` (and none is
        built), it is over :data:`MAX_CARD_BYTES`, it is not a skfashion
        card, or it is another file's card; also where huggingface_hub is
        not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skfashion.io import find_card
    >>> find_card(pathlib.Path(tempfile.mkdtemp()) / "model.safetensors") is None
    True
    """
    card = _card_beside(path)
    if card is None and build:
        from ._format import is_model_file

        if importlib.util.find_spec("huggingface_hub") and is_model_file(path):
            return model_card(path)
    return card


def _card_beside(path):
    readme = Path(path).parent / "README.md"
    try:
        if not Path(path).is_file() or not readme.is_file():
            return None
        if readme.stat().st_size > MAX_CARD_BYTES:
            return None
        import huggingface_hub as hub

        card = hub.ModelCard.load(readme)
    except Exception:  # not installed, unreadable, not YAML: not a card
        return None
    if card.data.library_name != "skfashion" or _sha256(path) not in card.text:
        return None
    return card
