"""Docstring fragments shared by the classifiers' docstrings."""

__all__ = ["COMMON_ATTRIBUTES", "COMMON_PARAMETERS"]

COMMON_PARAMETERS = """\
    l2 : float, default=1e-4
        Keras-style L2 penalty: ``l2 * sum(w ** 2)`` over the kernels of the
        dense layers is added to the loss (not biases, BatchNorm or
        convolutions). 0 disables it.
    lr : float, default=1e-4
        Learning rate of the optimizer.
    max_epochs : int, default=10
        Number of passes over the training data. 0 builds the network with
        its initial weights and trains nothing.
    batch_size : int, default=32
        Training mini-batch size; -1 trains on the whole data set at once
        (skorch's meaning). Validation and prediction use at least 256.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Its arguments are set with ``optimizer__<name>``. Adam and AdamW get
        Keras' epsilon, 1e-7, unless ``optimizer__eps`` is given.
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        The module returns logits; ``predict_proba`` applies a softmax. It is
        built with ``reduction="none"`` and the per-sample losses are
        averaged (weighted by ``sample_weight``) in ``get_loss``.
    validation_split : float, None, slice or array-like, default=0.1
        The validation data held out of ``X`` in ``fit``, scored after every
        epoch into ``history_``: a fraction (a stratified random sample
        seeded by ``random_state``), ``None`` for no validation, or the
        indices, slice or boolean mask of the validation rows of ``X``
        (``slice(0, 5000)`` reproduces the original report's protocol).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes' losses, as in scikit-learn's classifiers:
        ``{label: weight}``, or "balanced" for weights inversely
        proportional to the class frequencies in ``y``. Multiplied with
        ``fit``'s ``sample_weight``.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the validation
        split. The same value gives bit-identical results on the CPU.
    device : {"auto", "cpu", "cuda"}, str or torch.device, default="auto"
        Where to train; "auto" picks CUDA when available. ``fit`` raises a
        ``ValueError`` for a CUDA device on a machine without one. The
        device used is ``device_``; this parameter is never changed.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        "bfloat16" trains and predicts under ``torch.autocast`` (mixed
        precision: weights stay float32). "auto" picks it where the hardware
        computes bfloat16 natively (CUDA GPUs with bfloat16 support, CPUs with
        AMX or AVX512-BF16) and float32 elsewhere.
    checkpoint_dir : str, path-like or None, default=None
        Save a checkpoint (weights, optimizer, history, random state, the
        callbacks' state such as learning-rate schedules) after every epoch
        into this folder, and resume from it: a fit that is killed after
        epoch k and started again with the same parameters and data
        continues from epoch k+1 and ends with the same weights as an
        uninterrupted fit. Each fit's file is named by its parameters and
        data, so the fits of a grid search never share one; it is deleted
        when the fit finishes (all epochs, or an early stop).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the default ones, e.g. ``skorch.callbacks.EarlyStopping``,
        ``LRScheduler`` or ``Checkpoint``.
    warm_start : bool, default=False
        Continue training from the current weights on ``fit``.
    verbose : int, default=0
        1 prints skorch's per-epoch table and a progress bar.
    **kwargs
        Other arguments of :class:`skorch.NeuralNetClassifier`, including
        prefixed ones such as ``optimizer__weight_decay``,
        ``iterator_train__shuffle`` or ``callbacks__print_log__sink``.
"""

COMMON_ATTRIBUTES = """\
    classes_ : ndarray of shape (n_classes,)
        The class labels, as given to ``fit``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen in ``fit``, when ``X`` had string column names.
    module_ : torch.nn.Module
        The trained network.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``train_acc``, ``valid_loss``, ``valid_acc``
        and ``dur`` (seconds), e.g. ``history_[:, "valid_acc"]``.
    device_ : str
        The device used for training (and prediction), e.g. "cpu".
    precision_ : str
        The precision used for training: "float32" or "bfloat16".
    input_max_ : float
        The largest absolute value in the training data; prediction warns
        when a network trained on [0, 1] gets raw 0-255 pixels.
    split_seed_ : int
        The seed of the validation split, drawn from ``random_state`` (a
        resumed fit reuses it, so it validates on the same samples).
"""
