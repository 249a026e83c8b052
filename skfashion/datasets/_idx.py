"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number -- two zero bytes, a type code and the
number of dimensions -- followed by one big-endian 32-bit size per dimension
and the elements in C order, big-endian.
"""

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..utils._files import atomic_write

__all__ = ["load_idx", "save_idx"]

# type code -> big-endian numpy dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}

# deflate cannot expand data by more than about 1032:1; a header promising
# more than that from a gzip file is a lie (or a decompression bomb)
_MAX_DEFLATE_RATIO = 1040
_GZIP_MAGIC = b"\x1f\x8b"


def _parse_header(path, head):
    """Return (dtype, shape, header_length) from the first bytes of a file."""
    if len(head) < 4:
        raise ValueError(
            f"{path}: not an IDX file: {len(head)} bytes is too short for the "
            "4-byte magic number."
        )
    zero, code, ndim = struct.unpack(">HBB", head[:4])
    if zero != 0 or code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file: bad magic number 0x{head[:4].hex()} "
            "(expected 0x0000 followed by a type code in "
            f"{sorted(hex(c) for c in _IDX_DTYPES)} and the number of dimensions)."
        )
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions.")
    header_length = 4 + 4 * ndim
    if len(head) < header_length:
        raise ValueError(
            f"{path}: truncated IDX header: {ndim} dimensions need "
            f"{header_length} bytes, the file has {len(head)}."
        )
    shape = struct.unpack(f">{ndim}I", head[4:header_length])
    return _IDX_DTYPES[code], tuple(int(s) for s in shape), header_length


def _payload_size(dtype, shape):
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def _decompress(path, raw, max_size):
    """Inflate a (possibly multi-member) gzip file, never past ``max_size``."""
    out = []
    produced = 0
    data = raw
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            chunk = inflater.decompress(data, max_size + 1 - produced)
        except zlib.error as exc:
            raise OSError(f"{path}: corrupt gzip data: {exc}") from None
        out.append(chunk)
        produced += len(chunk)
        if produced > max_size:
            return b"".join(out)  # the caller reports the size mismatch
        if not inflater.eof:
            raise OSError(
                f"{path}: truncated gzip file: the compressed stream ends "
                f"after {produced} bytes of data."
            )
        data = inflater.unused_data
        if data and not data.startswith(_GZIP_MAGIC):
            break  # trailing garbage after the last member: ignore, as gzip does
    return b"".join(out)


def _read_idx_bytes(path):
    """Return ``(dtype, shape, payload)`` of an IDX file, gzipped or raw.

    Sizes are checked against the header before anything big is allocated.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise OSError(f"{path}: is a directory, not an IDX file.") from None
    if raw[:2] == _GZIP_MAGIC:
        # inflate just enough to parse the header
        head = _decompress(path, raw, 4 + 4 * 255)
        dtype, shape, header_length = _parse_header(path, head)
        expected = header_length + _payload_size(dtype, shape)
        if expected > _MAX_DEFLATE_RATIO * len(raw) + 1024:
            raise ValueError(
                f"{path}: IDX header declares shape {shape} ({expected} bytes), "
                f"which a {len(raw)}-byte gzip file cannot hold."
            )
        content = _decompress(path, raw, expected)
    else:
        content = raw
        dtype, shape, header_length = _parse_header(path, content)
        expected = header_length + _payload_size(dtype, shape)
    if len(content) != expected:
        raise ValueError(
            f"{path}: size does not match the IDX header: shape {shape} of "
            f"{dtype.name} needs {expected - header_length} bytes of data, "
            f"the file has {len(content) - header_length}."
        )
    return dtype, shape, content, header_length


def load_idx(path):
    """Load an IDX file (gzipped or not) into a NumPy array.

    IDX is the format of MNIST, Fashion-MNIST, KMNIST and EMNIST. Every IDX
    element type is supported: unsigned and signed bytes, 16- and 32-bit
    integers, 32- and 64-bit floats. Gzip compression is detected from the
    file's content, not its name.

    Parameters
    ----------
    path : str or path-like
        The file to read.

    Returns
    -------
    array : ndarray
        A writable array in native byte order with the shape stored in the
        file's header.

    Raises
    ------
    ValueError
        If the file is not an IDX file (bad magic number, type code or
        dimensions) or its size does not match its header.
    OSError
        If the file cannot be read or is a corrupt or truncated gzip file.

    See Also
    --------
    skfashion.datasets.fetch_fashion_mnist : Load Fashion-MNIST as a Bunch.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skfashion.datasets import load_idx, save_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx3-ubyte.gz")
    >>> save_idx(path, np.arange(8, dtype=np.uint8).reshape(2, 2, 2))
    >>> load_idx(path)
    array([[[0, 1],
            [2, 3]],
    <BLANKLINE>
           [[4, 5],
            [6, 7]]], dtype=uint8)
    """
    dtype, shape, content, offset = _read_idx_bytes(os.fspath(path))
    array = np.frombuffer(content, dtype=dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def save_idx(path, array, *, compress=None):
    """Write a NumPy array as an IDX file.

    Parameters
    ----------
    path : str or path-like
        Destination. Written to a temporary file beside it, then renamed.
    array : array-like
        Array of one of the IDX element types: uint8, int8, int16, int32,
        float32 or float64, with at least one dimension.
    compress : bool, default=None
        Gzip the file. By default, compress when ``path`` ends with ``.gz``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skfashion.datasets import load_idx, save_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "x.idx")
    >>> save_idx(path, np.array([1.5, -2.0], dtype=np.float32))
    >>> load_idx(path)
    array([ 1.5, -2. ], dtype=float32)
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _DTYPE_CODES:
        raise ValueError(
            f"IDX cannot store dtype {array.dtype}; use one of uint8, int8, "
            "int16, int32, float32, float64."
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}.")
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    header = struct.pack(">HBB", 0, _DTYPE_CODES[native], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(native.newbyteorder(">")).tobytes()
    if compress:
        content = gzip.compress(content, compresslevel=6, mtime=0)
    with atomic_write(path) as tmp:
        tmp.write_bytes(content)
