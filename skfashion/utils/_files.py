"""Files written whole or not at all."""

import contextlib
import os
from pathlib import Path

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path):
    """Write a file whole or not at all: yield a temporary path to write to.

    The temporary file lies beside ``path`` (so the final rename stays on one
    file system), hidden and named by the process (``.NAME.PID.tmp``), so
    that concurrent writers never share one. When the ``with`` block ends
    without an error it replaces ``path`` in one atomic step; on an error,
    a kill before the rename or a full disk, ``path`` is left as it was and
    the temporary file is removed (a killed process leaves its hidden file
    behind, never a half-written ``path``).

    Parameters
    ----------
    path : str or path-like
        The file to write. Its folder must exist.

    Yields
    ------
    tmp : pathlib.Path
        Where to write the content.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfashion.utils import atomic_write
    >>> path = Path(tempfile.mkdtemp()) / "numbers.txt"
    >>> with atomic_write(path) as tmp:
    ...     _ = tmp.write_text("1 2 3")
    >>> path.read_text()
    '1 2 3'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
