"""In-memory mini-batches for the skorch nets.

skorch's defaults index a ``Dataset`` one sample at a time and collate the
samples into batches; for 28x28 images that costs as much as the small
network's forward pass. :class:`ArrayLoader` slices whole tensors instead.
"""

from collections.abc import Mapping

import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

__all__ = [
    "ArrayLoader",
    "batch_weights",
    "first_images",
    "n_batches",
]


class ArrayLoader:
    """Iterate over ``(X, y)`` mini-batches by slicing whole tensors.

    A drop-in replacement for :class:`torch.utils.data.DataLoader` as skorch's
    ``iterator_train`` / ``iterator_valid`` when the data are in-memory arrays
    (a :class:`skorch.dataset.Dataset` of arrays, tensors or a dict of them).
    Any other dataset is handed to a ``DataLoader`` with the same arguments.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch Dataset
        The data to iterate over.
    batch_size : int, default=32
        Samples per batch.
    shuffle : bool, default=False
        Draw a new random order every epoch (from torch's random generator).
    drop_last : bool, default=False
        Drop the last batch if it is smaller than ``batch_size``.
    **kwargs
        Passed to ``DataLoader`` for datasets that are not in-memory arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> from skfashion.utils import ArrayLoader
    >>> X, y = np.zeros((6, 2), np.float32), np.arange(6)
    >>> [len(yb) for _, yb in ArrayLoader(Dataset(X, y), batch_size=4)]
    [4, 2]
    """

    def __init__(
        self, dataset, batch_size=32, shuffle=False, drop_last=False, **kwargs
    ):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size!r}.")
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._loader = None
        arrays = _as_arrays(dataset)
        if arrays is None or kwargs:
            self._loader = DataLoader(
                dataset,
                batch_size=self.batch_size,
                shuffle=shuffle,
                drop_last=drop_last,
                **kwargs,
            )
        else:
            self.X, self.y = arrays

    def __len__(self):
        if self._loader is not None:
            return len(self._loader)
        return len(_batch_bounds(self._n_samples(), self.batch_size, self.drop_last))

    def _n_samples(self):
        return len(self.y) if self.y is not None else len(_first(self.X))

    def __iter__(self):
        if self._loader is not None:
            yield from self._loader
            return
        n = self._n_samples()
        order = torch.randperm(n) if self.shuffle else None
        for start, end in _batch_bounds(n, self.batch_size, self.drop_last):
            index = slice(start, end) if order is None else order[start:end]
            yield _take(self.X, index), (None if self.y is None else self.y[index])


def _batch_bounds(n, batch_size, drop_last=False):
    """``(start, end)`` of each of :class:`ArrayLoader`'s batches of ``n``
    samples. A last batch of one sample is merged into the one before:
    BatchNorm cannot train on a single sample."""
    stop = n - n % batch_size if drop_last else n
    starts = list(range(0, stop, batch_size))
    if len(starts) > 1 and stop - starts[-1] == 1:
        starts.pop()
    return list(zip(starts, [*starts[1:], stop], strict=True))


def _first(X):
    return next(iter(X.values())) if isinstance(X, Mapping) else X


def _take(X, index):
    if isinstance(X, Mapping):
        return {k: v[index] for k, v in X.items()}
    return X[index]


def _as_arrays(dataset):
    """``(X, y)`` tensors of a skorch Dataset of plain arrays, else None."""
    if type(dataset) is not Dataset:
        return None
    X, y = dataset.X, dataset.y
    try:
        if isinstance(X, Mapping):
            X = {k: torch.as_tensor(v) for k, v in X.items()}
        else:
            X = torch.as_tensor(X)
        y = None if y is None else torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError):
        return None
    return X, y


def batch_weights(X):
    """The per-sample weights travelling with a batch, or None."""
    return X.get("sample_weight") if isinstance(X, Mapping) else None


def n_batches(net, dataset, training=True):
    """The number of batches of one pass of ``net`` over ``dataset``, as the
    net's own data loaders make them (``get_iterator``): training batches, or
    validation and prediction batches with ``training=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfashion import FashionMLP
    >>> from skfashion.utils import n_batches
    >>> net = FashionMLP(batch_size=32)
    >>> dataset = net.get_dataset(np.zeros((100, 4), np.float32), np.zeros(100))
    >>> n_batches(net, dataset), n_batches(net, dataset, training=False)
    (4, 1)
    """
    if dataset is None:
        return 0
    return len(net.get_iterator(dataset, training=training))


def first_images(dataset, n):
    """The first ``n`` inputs of ``dataset`` as one tensor: sliced from an
    in-memory skorch ``Dataset``, else indexed one sample at a time."""
    arrays = _as_arrays(dataset)
    if arrays is not None:
        return _first(arrays[0])[:n]
    return torch.stack([torch.as_tensor(_first(dataset[i][0])) for i in range(n)])
