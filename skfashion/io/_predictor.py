"""One object for every model ``skfashion predict`` and ``skfashion serve``
take: a safe model file, an ONNX graph, a pickle, a folder holding one, or
a fitted classifier in memory."""

import json
import math
from pathlib import Path

import numpy as np

from ..datasets import class_name
from ..preprocessing import ImagePreprocessor, preprocess_image
from ..utils import split_pipeline

__all__ = ["OnnxModel", "Predictor", "load_predictor"]

PICKLE_SUFFIXES = (".pkl", ".joblib")


class OnnxModel:
    """A graph written by :func:`~skfashion.export_onnx`, run by onnxruntime.

    It has the ``classes_`` and ``predict_proba`` of the classifier it was
    exported from, and takes rows of 0-255 pixels whatever the graph's
    input type. A graph exported with a novelty detector also gives its
    ``garment_score`` (:meth:`garment_detector`).

    Parameters
    ----------
    path : str or path-like
        The ``.onnx`` file.
    spinning : bool, default=True
        Whether onnxruntime's threads spin for more work between calls.
        A server wants ``False``: spinning threads take the cores its event
        loop needs between calls.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, from the graph's metadata.
    n_features_in_ : int or None
        The pixels a row holds (``None`` if the graph does not say).
    novelty_method : str or None
        The novelty score the graph gives as ``garment_score`` (``None``:
        none).

    Examples
    --------
    >>> from skfashion.io import OnnxModel
    >>> model = OnnxModel("report/cnn/model.onnx")  # doctest: +SKIP
    >>> model.predict_proba(X_test[:1]).shape  # doctest: +SKIP
    (1, 10)
    """

    def __init__(self, path, *, spinning=True):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ValueError(
                f"{path}: running an ONNX model needs onnxruntime (pip install "
                '"skfashion[onnx]")'
            ) from None
        options = ort.SessionOptions()
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
            meta = self._session.get_modelmeta().custom_metadata_map
            self.classes_ = np.asarray(json.loads(meta["classes"]))
        except Exception as exc:  # onnxruntime raises its own error types
            raise ValueError(
                f"{path}: not a model written by export_onnx ({exc})"
            ) from None
        self.path = path
        self._input = self._session.get_inputs()[0]
        expected = self._input.shape[-1]
        self.n_features_in_ = expected if isinstance(expected, int) else None
        # a bare classifier trained on [0, 1] gets the pixels scaled to it
        self._scale = float(meta.get("input_max") or 255) <= 1.0
        outputs = {o.name for o in self._session.get_outputs()}
        self.novelty_method, self._threshold = None, None
        if "garment_score" in outputs:
            try:
                self._threshold = float(meta["garment_score_threshold"])
            except (KeyError, ValueError):
                raise ValueError(
                    f"{path}: the graph gives a garment_score but its metadata "
                    "has no valid garment_score_threshold"
                ) from None
            self.novelty_method = meta.get("novelty_method", "")

    def garment_detector(self):
        """The graph's novelty check as a detector :class:`Predictor` takes
        (``method``, ``offset_`` and ``score_samples`` from the graph), or
        None if the graph gives no ``garment_score``."""
        if self.novelty_method is None:
            return None
        return _OnnxScores(self)

    def predict_proba(self, X):
        """Class probabilities for rows of 0-255 pixels."""
        return self.run(X, ["probabilities"])[0]

    def run(self, X, outputs):
        """The graph's ``outputs`` (names) for rows of 0-255 pixels."""
        X = np.asarray(X)
        expected = self.n_features_in_
        if expected is not None and X.shape[-1] != expected:
            raise ValueError(
                f"{self.path}: the model takes {_size(expected)}, got "
                f"{_size(X.shape[-1])}"
            )
        if self._input.type == "tensor(uint8)":
            X = X.astype(np.uint8)
        else:
            X = X.astype(np.float32) / (255.0 if self._scale else 1.0)
        return self._session.run(list(outputs), {self._input.name: X})


class _OnnxScores:
    """An exported graph's ``garment_score``, in a NoveltyDetector's
    terms."""

    def __init__(self, model):
        self.estimator = model
        self.method = model.novelty_method
        self.offset_ = model._threshold

    def score_samples(self, X):
        return self.estimator.run(X, ["garment_score"])[0].astype(np.float64)


class Predictor:
    """A fitted classifier seen as ``predict`` and ``serve`` use it: pictures
    or rows of 0-255 pixels in, named classes out.

    A pipeline that starts with
    :class:`~skfashion.preprocessing.ImagePreprocessor` is run from its
    second step: the predictor converts pictures itself, the same way
    (:func:`~skfashion.preprocess_image` at the same size), so that a
    server can show what the model receives.

    Parameters
    ----------
    model : fitted classifier
        A pipeline such as ``make_pipeline(PixelScaler(), FashionMLP())``,
        a model loaded by :func:`~skfashion.load_model`, an
        :class:`OnnxModel`, or any fitted classifier with ``classes_`` and
        ``predict_proba`` that takes rows of 0-255 pixels.
    detector : NoveltyDetector, default=None
        A :class:`~skfashion.novelty.NoveltyDetector` fitted on ``model``:
        then :meth:`garment` says whether a picture is like the training
        images.
    card : huggingface_hub.ModelCard, default=None
        The model's card (:func:`find_card`): ``skfashion serve`` shows it.
    source : pathlib.Path, default=None
        The file the model was loaded from.

    Attributes
    ----------
    model : fitted classifier
        What ``predict_proba`` calls (without a leading ImagePreprocessor).
    classes_ : ndarray
        The class labels.
    class_names : list of str
        Their names (:func:`~skfashion.datasets.class_name`).
    side : int
        The pictures' side in pixels.
    n_features : int
        The pixels of a row (``side ** 2``).
    platform : {"skfashion", "onnxruntime"}
        What runs the model.
    detector : NoveltyDetector or None
        The novelty detector, over :attr:`model`.
    card : huggingface_hub.ModelCard or None
        The model card.
    source : pathlib.Path or None
        The model's file.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skfashion.io import Predictor
    >>> model = DummyClassifier().fit(np.zeros((3, 784)), [0, 1, 1])
    >>> predictor = Predictor(model)
    >>> predictor.side, predictor.class_names
    (28, ['T-shirt/top', 'Trouser'])
    >>> predictor.top(predictor.predict_proba(np.zeros((1, 784))), k=1)
    [[{'label': 'Trouser', 'probability': 0.6667}]]
    """

    def __init__(self, model, detector=None, *, card=None, source=None):
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise TypeError(
                f"can only serve a fitted classifier with predict_proba, got "
                f"{type(model).__name__}"
            )
        steps, _ = split_pipeline(model)
        side = None
        if isinstance(steps[0][1], ImagePreprocessor):
            side = steps[0][1].size
            if len(steps) == 1:
                raise TypeError("the pipeline holds only an ImagePreprocessor")
            model = model[1:]
        self.model = model
        self.classes_ = np.asarray(model.classes_)
        self.class_names = [class_name(c) for c in self.classes_.tolist()]
        n_features = _n_features(model)
        root = math.isqrt(n_features)
        if root * root != n_features:
            raise TypeError(f"the model takes {n_features} features, not a picture")
        self.side = side or root
        self.n_features = self.side**2
        self.platform = "onnxruntime" if isinstance(model, OnnxModel) else "skfashion"
        self.detector = None if detector is None else _over(detector, model)
        self.card, self.source = card, source

    def garment(self, X):
        """For rows of 0-255 pixels: the detector's scores, and whether each
        row is accepted as a garment (``score >= detector.offset_``).

        Raises
        ------
        ValueError
            If the predictor has no detector.
        """
        if self.detector is None:
            raise ValueError("this model has no novelty detector")
        scores = self.detector.score_samples(X)
        return scores, scores >= self.detector.offset_

    def predict_proba(self, X):
        """Probabilities for rows of 0-255 pixels, as float32."""
        return np.asarray(self.model.predict_proba(X), dtype=np.float32)

    def answer(self, X):
        """:meth:`predict_proba`, and with a detector its score of each row
        as one more column (float32): what a server computes per batch.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from skfashion.io import Predictor
        >>> model = DummyClassifier().fit(np.zeros((2, 784)), [0, 1])
        >>> Predictor(model).answer(np.zeros((3, 784))).shape
        (3, 2)
        """
        if isinstance(self.detector, _OnnxScores):  # one run of the graph
            proba, scores = self.model.run(X, ["probabilities", "garment_score"])
            return np.column_stack([proba, scores]).astype(np.float32)
        proba = self.predict_proba(X)
        if self.detector is None:
            return proba
        scores = self.detector.score_samples(X).astype(np.float32)
        return np.column_stack([proba, scores])

    def split_answer(self, answer):
        """:meth:`answer`'s rows -> (probabilities, garment scores or None,
        accepted as garments or None)."""
        n_classes = len(self.classes_)
        if self.detector is None:
            return answer, None, None
        scores = np.ascontiguousarray(answer[:, n_classes])
        return answer[:, :n_classes], scores, scores >= self.detector.offset_

    def pixels(self, image):
        """A picture (a path, a PIL image or an array) as the row of pixels
        the model takes (:func:`~skfashion.preprocess_image`)."""
        return preprocess_image(image, size=self.side)

    def top(self, proba, k=3, *, decimals=4):
        """Each row's ``k`` likeliest classes, likeliest first, as
        ``{"label": name, "probability": p}`` with ``p`` rounded to
        ``decimals`` (``None``: as computed)."""
        proba = np.asarray(proba)
        best = np.argsort(proba, axis=1)[:, ::-1][:, :k]
        return [
            [
                {
                    "label": self.class_names[i],
                    "probability": float(row[i])
                    if decimals is None
                    else round(float(row[i]), decimals),
                }
                for i in order
            ]
            for row, order in zip(proba, best, strict=True)
        ]

    def describe(self):
        """One line: what is served."""
        kind = type(split_pipeline(self.model)[1]).__name__
        if self.platform == "onnxruntime":
            kind = "ONNX graph"
        detector = ""
        if self.detector is not None:
            detector = f", a novelty detector ({self.detector.method})"
        return (
            f"{kind}, {self.side}x{self.side} pictures -> {len(self.classes_)} "
            f"classes ({', '.join(self.class_names[:3])}, ...){detector}"
        )


def _over(detector, model):
    """The fitted ``detector`` over ``model`` (the same classifier, without
    the ImagePreprocessor the predictor runs itself)."""
    if detector.estimator is model:
        return detector
    moved = type(detector)(**{**detector.get_params(deep=False), "estimator": model})
    for name, value in vars(detector).items():
        if name.endswith("_") and not name.startswith("_"):
            setattr(moved, name, value)
    return moved


def _n_features(model):
    n = getattr(model, "n_features_in_", None)
    return int(n) if isinstance(n, int | np.integer) else 784


def _find(path):
    """The model file ``path`` names: itself, or in a folder the safe file
    first."""
    path = Path(path)
    if path.is_dir():
        candidates = [path / "model.safetensors", path / "model.onnx"]
        candidates += [path / f"model{suffix}" for suffix in PICKLE_SUFFIXES]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise ValueError(f"{path}: no model.safetensors or model.pkl in it")
        path = found[0]
    if not path.is_file():
        raise ValueError(f"{path}: no such model file")
    return path


def _load_pickle(path, warn, allow_pickle):
    import joblib

    if not allow_pickle:
        raise ValueError(
            f"{path} is a pickle, and loading a pickle runs code from it: "
            "refused (load it with allow_pickle=True, or --allow-pickle on the "
            "command line, only if you trust it; model.safetensors files are safe)"
        )
    warn(
        f"{path} is a pickle, and loading a pickle runs code from it: use only "
        "pickles you trust (model.safetensors files are safe)"
    )
    try:
        model = joblib.load(path)
    except Exception as exc:  # a corrupt pickle raises many kinds of errors
        raise ValueError(f"{path}: not a readable model file ({exc})") from None
    if not hasattr(model, "predict_proba"):
        raise ValueError(f"{path}: holds a {type(model).__name__}, not a classifier")
    return model


def load_predictor(path, *, allow_pickle=False, warn=None, spinning=True):
    """Load any model ``skfashion predict`` and ``skfashion serve`` take.

    A safe model file (written by :func:`~skfashion.save_model`; never runs
    code from the file), an ONNX graph (written by
    :func:`~skfashion.export_onnx`), a ``.pkl``/``.joblib`` pickle (which
    runs code when loaded: refused unless ``allow_pickle``, and ``warn`` is
    told first), or a folder holding one of them (a report's model folder),
    where the safe file is preferred.

    Parameters
    ----------
    path : str or path-like
        The model file or its folder.
    allow_pickle : bool, default=False
        Whether a pickle may be loaded (and its code run). A file that is
        not named ``*.pkl``/``*.joblib`` is never unpickled.
    warn : callable, default=None
        Called with one line before a pickle is loaded; ``None`` issues a
        :class:`UserWarning`.
    spinning : bool, default=True
        For an ONNX graph: see :class:`OnnxModel`.

    Returns
    -------
    predictor : Predictor

    Raises
    ------
    ValueError
        If ``path`` holds no model, one that cannot be read or served, or
        a pickle without ``allow_pickle``.

    Examples
    --------
    >>> from skfashion.io import load_predictor
    >>> load_predictor("report/cnn").describe()  # doctest: +SKIP
    'Pipeline, 28x28 pictures -> 10 classes (T-shirt/top, Trouser, Pullover, ...)'
    """
    from ._format import is_model_file

    if warn is None:
        import warnings

        def warn(message):
            warnings.warn(message, UserWarning, stacklevel=3)

    path = _find(path)
    detector = None
    if is_model_file(path):
        from ._model_file import load_with_detector  # PyTorch: not for a graph

        model, detector = load_with_detector(path)
    elif path.suffix.lower() == ".onnx":
        model = OnnxModel(path, spinning=spinning)
        detector = model.garment_detector()
    elif path.suffix.lower() in PICKLE_SUFFIXES:
        model = _load_pickle(path, warn, allow_pickle)
    else:
        raise ValueError(
            f"{path}: not a model file (expected a .safetensors file written by "
            "save_model, a .onnx file written by export_onnx, or a .pkl/.joblib "
            "pickle)"
        )
    from ._card import find_card

    card = None if path.suffix.lower() in PICKLE_SUFFIXES else find_card(path)
    try:
        return Predictor(model, detector, card=card, source=path)
    except TypeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _size(n_pixels):
    """'28x28 images (784 pixels)', or 'rows of N pixels' if not square."""
    side = math.isqrt(n_pixels)
    if side * side == n_pixels:
        return f"{side}x{side} images ({n_pixels} pixels)"
    return f"rows of {n_pixels} pixels"
