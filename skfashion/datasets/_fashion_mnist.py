"""The Fashion-MNIST loader, in the style of scikit-learn's ``fetch_*``."""

import hashlib
import numbers
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ._idx import _read_idx_bytes

__all__ = [
    "CLASS_NAMES",
    "SYSTEM_DATA_DIR",
    "fetch_fashion_mnist",
    "locate_fashion_mnist",
]

#: The ten Fashion-MNIST classes, in label order.
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def class_name(label):
    """A label's Fashion-MNIST name (0-9), else the label as text.

    Parameters
    ----------
    label : int or object
        A class label, as a classifier's ``classes_`` holds it.

    Returns
    -------
    name : str
        :data:`CLASS_NAMES` ``[label]`` for the integers 0-9, ``str(label)``
        for any other label.

    Examples
    --------
    >>> from skfashion.datasets import class_name
    >>> class_name(9), class_name("boot")
    ('Ankle boot', 'boot')
    """
    if isinstance(label, numbers.Integral) and 0 <= label < len(CLASS_NAMES):
        return CLASS_NAMES[label]
    return str(label)


#: Where Debian's ``dataset-fashion-mnist`` package puts the files.
SYSTEM_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")

ENV_VAR = "SKFASHION_DATA"

MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)

# SHA-256 of the *decompressed* files: distributions re-gzip them, so the
# checksums of the .gz files differ while the content is the same.
FILES = {
    "train-images-idx3-ubyte.gz": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    ),
    "train-labels-idx1-ubyte.gz": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
}
_SUBSET_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_SUBSETS = ("train", "test", "all")


@dataclass(frozen=True)
class _Location:
    """Where one data file was found (or is to be downloaded to)."""

    name: str
    path: Path
    source: str  # "data_home", "environment", "cache", "system" or "missing"


def _cache_dir():
    """``fashion_mnist`` in scikit-learn's data home: ``get_data_home()``'s
    folder (``$SCIKIT_LEARN_DATA``, else ``~/scikit_learn_data``), found
    without importing scikit-learn, which takes longer than ``skfashion
    data`` itself (a test checks that the two agree)."""
    home = os.environ.get("SCIKIT_LEARN_DATA", os.path.join("~", "scikit_learn_data"))
    return Path(home).expanduser() / "fashion_mnist"


def _search_dirs(data_home):
    """The folders to look in, in order, with the name of each source."""
    dirs = []
    if data_home is not None:
        dirs.append((Path(data_home).expanduser(), "data_home"))
    if os.environ.get(ENV_VAR):
        dirs.append((Path(os.environ[ENV_VAR]).expanduser(), "environment"))
    dirs.append((_cache_dir(), "cache"))
    dirs.append((SYSTEM_DATA_DIR, "system"))
    return dirs


def _download_dir(data_home):
    """The first writable place of the search order: where downloads go."""
    return _search_dirs(data_home)[0][0]


def locate_fashion_mnist(data_home=None):
    """Find the four Fashion-MNIST files without reading them.

    The folders are searched in this order: ``data_home`` if given; the
    ``SKFASHION_DATA`` environment variable; ``<scikit-learn data
    home>/fashion_mnist``; Debian's system copy in
    ``/usr/share/datasets/fashion-mnist``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        A folder to search first.

    Returns
    -------
    locations : list of tuples ``(filename, path, source)``
        ``source`` is ``"data_home"``, ``"environment"``, ``"cache"``,
        ``"system"``, or ``"missing"`` (then ``path`` is where a download
        would go).

    Examples
    --------
    >>> from skfashion.datasets import locate_fashion_mnist
    >>> [name for name, path, source in locate_fashion_mnist()]
    ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', \
't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
    """
    return [
        (loc.name, loc.path, loc.source)
        for loc in (_locate(name, data_home) for name in FILES)
    ]


def _locate(name, data_home):
    for folder, source in _search_dirs(data_home):
        path = folder / name
        if path.is_file():
            return _Location(name, path, source)
    return _Location(name, _download_dir(data_home) / name, "missing")


def _missing_message(names, data_home, reason):
    dirs = "\n".join(f"  - {d}" for d, _ in _search_dirs(data_home))
    return (
        f"Fashion-MNIST file(s) {', '.join(names)} {reason}. Looked in:\n{dirs}\n"
        "To fix this, do one of:\n"
        "  - connect to the internet and retry with download_if_missing=True "
        "(or run `skfashion data --download`);\n"
        "  - on Debian or Ubuntu, run `apt-get install dataset-fashion-mnist`;\n"
        "  - put the four .gz files in a folder and pass it as data_home "
        f"(or set the {ENV_VAR} environment variable)."
    )


def _download(name, folder):
    """Download one file from the first mirror that answers.

    scikit-learn's ``fetch_file`` writes to a temporary file and moves it into
    place only when complete, so a failure leaves nothing behind.
    """
    from sklearn.datasets import fetch_file

    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in MIRRORS:
        try:
            return Path(fetch_file(mirror + name, folder=folder, local_filename=name))
        except Exception as exc:  # network errors come in many types
            errors.append(f"{mirror}: {exc}")
    raise OSError("could not be downloaded:\n    " + "\n    ".join(errors))


def _load_verified(name, path):
    """Read one file and check the SHA-256 of its decompressed content."""
    dtype, shape, content, offset = _read_idx_bytes(path)
    digest = hashlib.sha256(content).hexdigest()
    if digest != FILES[name]:
        raise ValueError(
            f"{path}: checksum mismatch: the decompressed content has SHA-256 "
            f"{digest}, expected {FILES[name]}. The file is corrupt or not "
            "the original Fashion-MNIST."
        )
    return np.frombuffer(content, dtype=dtype, offset=offset).reshape(shape)


def _fetch_file_array(name, data_home, download_if_missing):
    loc = _locate(name, data_home)
    if loc.source == "missing":
        if not download_if_missing:
            raise OSError(_missing_message([name], data_home, "were not found"))
        try:
            path = _download(name, loc.path.parent)
        except OSError as exc:
            raise OSError(_missing_message([name], data_home, str(exc))) from None
        return _load_verified(name, path), path
    try:
        return _load_verified(name, loc.path), loc.path
    except (ValueError, OSError) as exc:
        if loc.source == "system" or not download_if_missing:
            raise
        warnings.warn(
            f"{exc} Removing it and downloading it again.", UserWarning, stacklevel=3
        )
        loc.path.unlink()
        path = _download(name, loc.path.parent)
        return _load_verified(name, path), path


def _load_subset(subset, data_home, download_if_missing):
    images_name, labels_name = _SUBSET_FILES[subset]
    images, _ = _fetch_file_array(images_name, data_home, download_if_missing)
    labels, _ = _fetch_file_array(labels_name, data_home, download_if_missing)
    return images, labels


def _descr():
    return (
        resources.files("skfashion.datasets")
        .joinpath("descr/fashion_mnist.rst")
        .read_text(encoding="utf-8")
    )


def fetch_fashion_mnist(
    *,
    subset="train",
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    as_frame=False,
):
    """Load the Fashion-MNIST data set (classification).

    70,000 grayscale 28x28 images of clothing in 10 classes: 60,000 for
    training and 10,000 for testing. Every load verifies the SHA-256 of each
    file's decompressed content.

    =================   ==============
    Classes                         10
    Samples total                70000
    Samples per class             7000
    Dimensionality                 784
    Features            integers 0-255
    =================   ==============

    Read more in the :ref:`User Guide <loading_data>`.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which images to load: the 60,000 training images, the 10,000 test
        images, or all 70,000 with the training images first.
    data_home : str or path-like, default=None
        A folder searched first for the four ``.gz`` files, and where missing
        files are downloaded to. Then come the ``SKFASHION_DATA`` environment
        variable, ``<scikit-learn data home>/fashion_mnist`` and Debian's
        ``/usr/share/datasets/fashion-mnist``.
    download_if_missing : bool, default=True
        If a file is found nowhere, download it from the upstream mirrors
        instead of raising ``OSError``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame, ``target`` as a Series and
        ``frame`` as a DataFrame holding both.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (n_samples, 784), dtype uint8, or DataFrame
            Pixel values, one row per image in row-major order.
        images : ndarray of shape (n_samples, 28, 28), dtype uint8
            The same pixels as images; a view of the memory of ``data``.
        target : ndarray of shape (n_samples,), dtype int64, or Series
            Labels 0-9; ``target_names[label]`` is the class name.
        target_names : list of str
            The ten class names in label order.
        feature_names : list of str
            ``"pixel1"`` ... ``"pixel784"``.
        frame : DataFrame of shape (n_samples, 785) or None
            The pixels and a ``"label"`` column, when ``as_frame=True``.
        DESCR : str
            Description of the data set, its source and licence.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    OSError
        If the data is missing and cannot be downloaded; the message says how
        to fix it.
    ValueError
        If a file is broken or fails its checksum.

    See Also
    --------
    skfashion.datasets.load_idx : Read any IDX file.

    Examples
    --------
    >>> from skfashion.datasets import fetch_fashion_mnist
    >>> data = fetch_fashion_mnist(subset="test")
    >>> data.data.shape, data.images.shape, data.target[:5]
    ((10000, 784), (10000, 28, 28), array([9, 2, 1, 1, 6]))
    >>> data.target_names[9]
    'Ankle boot'
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}.")
    if subset == "all":
        parts = [
            _load_subset(s, data_home, download_if_missing) for s in ("train", "test")
        ]
        images = np.concatenate([p[0] for p in parts])
        target = np.concatenate([p[1] for p in parts]).astype(np.int64)
    else:
        images, labels = _load_subset(subset, data_home, download_if_missing)
        images = images.copy()  # writable, owns its memory
        target = labels.astype(np.int64)
    data = images.reshape(len(images), -1)
    feature_names = [f"pixel{i}" for i in range(1, data.shape[1] + 1)]
    frame = None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame(data, columns=feature_names)
        frame["label"] = target
        data = frame[feature_names]
        target = frame["label"]
    if return_X_y:
        return data, target
    from sklearn.utils import Bunch

    return Bunch(
        data=data,
        images=images,
        target=target,
        target_names=list(CLASS_NAMES),
        feature_names=feature_names,
        frame=frame,
        DESCR=_descr(),
    )
