"""Is this a garment at all? A novelty detector on a fitted classifier."""

import numbers

import numpy as np
import torch
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.covariance import LedoitWolf
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted
from skorch.utils import to_numpy

from ..utils import split_pipeline

__all__ = ["METHODS", "NoveltyDetector", "fit_detectors"]

#: the scores, from the simplest: the largest probability, the logits'
#: log-sum-exp (minus the energy), minus the Mahalanobis distance of the
#: penultimate features to the nearest class mean
METHODS = ("msp", "energy", "mahalanobis", "vim")


def _split(estimator):
    """``(the steps before the classifier, the classifier)``."""
    from sklearn.frozen import FrozenEstimator
    from skorch import NeuralNet

    if isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    steps, net = split_pipeline(
        estimator, NeuralNet, caller="NoveltyDetector", kind="a skfashion classifier"
    )
    return [step for _, step in steps[:-1]], net


def _last_linear(module):
    """The module's last ``nn.Linear``: its input is the penultimate
    features, its output the logits (every skfashion network ends so)."""
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError(
            f"the network {type(module).__name__} has no nn.Linear layer, whose "
            "input would be the features the Mahalanobis score needs; use "
            "method='msp' or 'energy'"
        )
    return linears[-1]


def _check_fit_size(n):
    if n < 10:
        raise ValueError(f"fit needs at least 10 images; got {n}.")
    return n


def network_outputs(estimator, X, *, features=True):
    """One forward pass of a fitted skfashion classifier over ``X``.

    Returns a dict of ``logits``, ``proba`` (as ``predict_proba`` gives
    them, batch by batch) and ``features`` (the input of the network's last
    ``nn.Linear``, the penultimate features; None unless ``features``).
    With test-time augmentation the head runs once per view: the features
    are the views' mean, as their logits are averaged.
    """
    steps, net = _split(estimator)
    Xt = X
    for step in steps:
        Xt = step.transform(Xt)
    Xt = check_array(Xt, dtype=np.float32)
    if Xt.shape[1] != net.n_features_in_:
        raise ValueError(
            f"X has {Xt.shape[1]} features, but the classifier expects "
            f"{net.n_features_in_}."
        )
    nonlin = net._get_predict_nonlinearity()
    seen = []
    hook = (
        _last_linear(net.module_).register_forward_pre_hook(
            lambda module, args: seen.append(args[0].detach().float().cpu())
        )
        if features
        else None
    )
    logits, kept, proba = [], [], []
    try:
        for out in net.forward_iter(np.ascontiguousarray(Xt), training=False):
            if features:
                kept.append(torch.stack(seen).mean(0))
                seen.clear()
            logits.append(out.detach().float().cpu())
            proba.append(to_numpy(nonlin(out)))
    finally:
        if hook is not None:
            hook.remove()
    return {
        "logits": torch.cat(logits).numpy(),
        "features": torch.cat(kept).numpy() if features else None,
        "proba": np.concatenate(proba),
    }


class NoveltyDetector(OutlierMixin, BaseEstimator):
    """Tell images like the training images (garments) from anything else.

    Wraps a fitted skfashion classifier (alone, or last in a pipeline), as
    scikit-learn's novelty detectors (``LocalOutlierFactor(novelty=True)``,
    ``OneClassSVM``) are used: ``fit`` on training images, then
    :meth:`predict` says +1 (a garment) or -1 (not), :meth:`score_samples`
    how typical an image is. The classifier is not refitted.

    Read more in the :ref:`User Guide <ood>`.

    Parameters
    ----------
    estimator : classifier or Pipeline
        A fitted :class:`~skfashion.FashionMLP`, :class:`~skfashion.FashionCNN`
        or :class:`~skfashion.FastFashionCNN`, or a fitted pipeline ending in
        one (its other steps transform the images first). As in any
        scikit-learn meta-estimator, :func:`~sklearn.base.clone` gives an
        unfitted copy of it; wrapped in
        :class:`~sklearn.frozen.FrozenEstimator`, it stays fitted.
    method : {"energy", "msp", "mahalanobis", "vim"}, default="energy"
        The score. ``"energy"`` (Liu et al., 2020): the log-sum-exp of the
        logits: the best of the four on ``FastFashionCNN()`` (see
        :ref:`ood`). ``"msp"`` (Hendrycks & Gimpel, 2017): the largest
        class probability of ``predict_proba``. Two scores of the network's
        penultimate features, which need fitting: ``"vim"`` (Wang et al.,
        2022): the energy less a virtual
        logit, the norm of the penultimate features' part outside their
        principal space (about the point where the last layer gives zero
        logits; the space of the largest half of the covariance's
        eigenvalues, :class:`sklearn.covariance.EmpiricalCovariance`),
        scaled to the logits on the training images.
        ``"mahalanobis"`` (Lee et al., 2018): minus the squared
        Mahalanobis distance of the network's penultimate features to the
        nearest class mean, with one covariance shared by the classes
        (Ledoit-Wolf shrinkage, :class:`sklearn.covariance.LedoitWolf`).
    accept : float, default=0.95
        Share of held-out in-distribution images that :meth:`predict`
        accepts: it sets :attr:`offset_`. Give ``fit`` images the classifier
        was not trained on (they score as new images do).
    holdout : float, default=0.2
        For ``"mahalanobis"`` and ``"vim"``: the share of the images given
        to ``fit`` held out to set :attr:`offset_` (the score is fitted on
        the rest). ``"energy"`` and ``"msp"`` fit nothing: every image sets
        it.
    random_state : int, RandomState instance or None, default=None
        Chooses the held-out images.

    Attributes
    ----------
    offset_ : float
        The score below which an image is rejected: the ``1 - accept``
        quantile of the held-out images' scores.
    class_means_ : ndarray of shape (n_classes, n_features)
        The penultimate features' mean per class (``"mahalanobis"`` only).
    covariance_ : LedoitWolf
        The covariance shared by the classes (``"mahalanobis"`` only).
    vim_origin_, vim_null_space_, vim_alpha_ : ndarray, ndarray, float
        ViM's origin, null-space basis and virtual-logit scale (``"vim"``
        only).
    n_features_in_ : int
        Pixels per image.

    See Also
    --------
    sklearn.neighbors.LocalOutlierFactor : Novelty detection on the pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> from skfashion.novelty import NoveltyDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 16)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = FashionMLP(hidden_units=(8,), max_epochs=2, verbose=0,
    ...                  random_state=0).fit(X, y)
    >>> detector = NoveltyDetector(clf, random_state=0).fit(X)
    >>> detector.predict(X[:3]).tolist()
    [1, 1, 1]
    >>> float((detector.predict(X) == 1).mean())
    0.95

    A feature-space score also rejects what lies far from every class:

    >>> far = NoveltyDetector(clf, method="mahalanobis", random_state=0).fit(X)
    >>> far.predict(np.full((1, 16), 1e3, np.float32)).tolist()
    [-1]
    """

    def __init__(
        self,
        estimator,
        *,
        method="energy",
        accept=0.95,
        holdout=0.2,
        random_state=None,
    ):
        self.estimator = estimator
        self.method = method
        self.accept = accept
        self.holdout = holdout
        self.random_state = random_state

    def _check_params(self):
        if self.method not in METHODS:
            raise ValueError(
                f"method must be one of {', '.join(map(repr, METHODS))}; "
                f"got {self.method!r}."
            )
        for name in ("accept", "holdout"):
            value = getattr(self, name)
            if (
                not isinstance(value, numbers.Real)
                or isinstance(value, bool)
                or not 0 < value < 1
            ):
                raise ValueError(
                    f"{name} must be a number between 0 and 1 (both excluded); "
                    f"got {value!r}."
                )

    def _check_estimator(self):
        _, net = _split(self.estimator)
        check_is_fitted(net)
        return net

    def _outputs(self, X):
        """The network's outputs on ``X`` that the method needs."""
        return network_outputs(self.estimator, X, features=self.method != "msp")

    def _scores(self, outputs):
        """Each image's score, from its :func:`network_outputs`."""
        logits, features = outputs["logits"], outputs["features"]
        if self.method == "msp":
            return outputs["proba"].max(axis=1).astype(np.float64)
        if self.method == "energy":
            return logsumexp(logits.astype(np.float64), axis=1)
        if self.method == "vim":
            return self._vim_scores(logits, features)
        distances = np.stack(
            [
                self.covariance_.mahalanobis(features - mean)
                for mean in self.class_means_
            ],
            axis=1,
        )
        return -distances.min(axis=1)

    def _vim_scores(self, logits, features):
        """The energy less the virtual logit: the scaled norm of the
        features' part outside the training features' principal space."""
        residual = (
            features.astype(np.float64) - self.vim_origin_
        ) @ self.vim_null_space_
        virtual = self.vim_alpha_ * np.linalg.norm(residual, axis=1)
        return logsumexp(logits.astype(np.float64), axis=1) - virtual

    def _fit_vim(self, net, logits, features):
        """ViM's origin (where the last layer gives zero logits), null space
        (beyond the principal directions of the features about it) and the
        scale of the virtual logit (Wang et al., 2022)."""
        from sklearn.covariance import EmpiricalCovariance

        linear = _last_linear(net.module_)
        weight = linear.weight.detach().double().cpu().numpy()
        bias = linear.bias
        bias = (
            np.zeros(len(weight))
            if bias is None
            else bias.detach().double().cpu().numpy()
        )
        origin = -np.linalg.pinv(weight) @ bias
        d = features.shape[1]
        kept = 1000 if d >= 2048 else 512 if d >= 768 else d // 2
        centered = features.astype(np.float64) - origin
        covariance = EmpiricalCovariance(assume_centered=True).fit(centered).covariance_
        _, vectors = np.linalg.eigh(covariance)  # ascending eigenvalues
        self.vim_origin_ = origin
        self.vim_null_space_ = np.ascontiguousarray(vectors[:, : d - kept])
        norms = np.linalg.norm(centered @ self.vim_null_space_, axis=1)
        self.vim_alpha_ = float(logits.max(axis=1).mean() / max(norms.mean(), 1e-12))

    def fit(self, X, y=None):
        """Fit the score on in-distribution images and set the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training images (at least 10), as the estimator takes them.
        y : array-like of shape (n_samples,), default=None
            Their labels, for the class means; None: the estimator's
            predictions.

        Returns
        -------
        self : NoveltyDetector
            Fitted.
        """
        self._check_params()
        self._check_estimator()
        _check_fit_size(len(X))
        return self._fit_outputs(self._outputs(X), y)

    def _fit_outputs(self, outputs, y):
        """``fit`` from the network's outputs on the images: one forward
        pass serves every method (as :func:`~skfashion.evaluation.\
evaluate_under_shift` compares them)."""
        self._check_params()
        net = self._check_estimator()
        logits, features = outputs["logits"], outputs["features"]
        n = _check_fit_size(len(logits))
        rng = check_random_state(self.random_state)
        order = rng.permutation(n)
        n_held = max(1, round(self.holdout * n))
        held, rest = np.sort(order[:n_held]), np.sort(order[n_held:])
        if self.method in ("energy", "msp"):  # nothing to fit: all set it
            held = np.arange(n)
        if self.method == "mahalanobis":
            if y is None:
                labels = logits.argmax(axis=1)
            else:
                labels = np.searchsorted(net.classes_, np.asarray(y))
            labels = labels[rest]
            present = np.unique(labels)
            means = np.zeros((len(net.classes_), features.shape[1]))
            for k in present:
                means[k] = features[rest][labels == k].mean(axis=0)
            self.class_means_ = means[present]
            centered = features[rest] - means[labels]
            self.covariance_ = LedoitWolf(assume_centered=True).fit(centered)
        elif self.method == "vim":
            self._fit_vim(net, logits[rest], features[rest])
        self.n_features_in_ = net.n_features_in_
        held_outputs = {k: None if v is None else v[held] for k, v in outputs.items()}
        self.offset_ = float(np.quantile(self._scores(held_outputs), 1 - self.accept))
        return self

    def score_samples(self, X):
        """How typical each image is: higher is more like the training
        images (see ``method``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Images.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The score of each image.
        """
        check_is_fitted(self, "offset_")
        return self._scores(self._outputs(X))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for an image rejected.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Images.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Positive or zero: like the training images; negative: not.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for an image like the training images (a garment), -1 for
        one that is not.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Images.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
            +1 or -1.
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def fit_detectors(estimator, X, y=None, *, sets=None, methods=METHODS, **params):
    """A :class:`NoveltyDetector` of each method, fitted on ``X``, and their
    scores of each of ``sets``, from one forward pass of each set.

    What fitting and scoring each detector alone gives, bit for bit, for a
    fraction of the cost: the network runs once over ``X`` and once over
    each set, whatever the number of methods.

    Parameters
    ----------
    estimator : fitted skfashion classifier or Pipeline
        The classifier every detector wraps.
    X : array-like of shape (n_samples, n_features)
        Images to fit on (at least 10), as the estimator takes them.
    y : array-like of shape (n_samples,), default=None
        Their labels (see :meth:`NoveltyDetector.fit`).
    sets : dict of array-like, default=None
        Images to score, by name.
    methods : sequence of str, default=METHODS
        The detectors' methods.
    **params
        Other parameters of every detector (``accept``, ``holdout``,
        ``random_state``).

    Returns
    -------
    detectors : dict
        Method -> its fitted :class:`NoveltyDetector`.
    scores : dict
        Method -> set name -> the set's :meth:`~NoveltyDetector.score_samples`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from skfashion import FashionMLP
    >>> from skfashion.novelty import fit_detectors
    >>> X, y = make_classification(200, 16, n_informative=8, n_classes=3,
    ...                            random_state=0)
    >>> X = X.astype(np.float32)
    >>> clf = FashionMLP(hidden_units=(16,), max_epochs=3, verbose=0).fit(X, y)
    >>> detectors, scores = fit_detectors(clf, X[:100], y[:100],
    ...                                   sets={"far": X[100:] + 100})
    >>> sorted(detectors) == sorted(scores) == ["energy", "mahalanobis", "msp", "vim"]
    True
    >>> bool(np.allclose(scores["vim"]["far"],
    ...                  detectors["vim"].score_samples(X[100:] + 100)))
    True
    """
    sets = sets or {}
    fit_outputs = network_outputs(estimator, X)
    outputs = {name: network_outputs(estimator, Xs) for name, Xs in sets.items()}
    detectors, scores = {}, {}
    for method in methods:
        detector = NoveltyDetector(estimator, method=method, **params)
        detectors[method] = detector._fit_outputs(fit_outputs, y)
        scores[method] = {name: detector._scores(out) for name, out in outputs.items()}
    return detectors, scores
