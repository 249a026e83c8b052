"""Files and folders written whole or not at all."""

import contextlib
import os
import shutil
from pathlib import Path

__all__ = ["atomic_write", "move_files_into", "move_into_place"]


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


def move_into_place(work, out):
    """Replace the folder ``out`` by ``work``, whole: a reader sees the old
    folder or the new one, never a mix (the old one is removed).

    Parameters
    ----------
    work : path-like
        A complete folder, on the same file system as ``out`` (beside it).
    out : path-like
        Where it goes.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfashion.utils import move_into_place
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "new").mkdir(); (root / "new" / "a.txt").write_text("new")
    3
    >>> move_into_place(root / "new", root / "out")
    >>> (root / "out" / "a.txt").read_text()
    'new'
    """
    work, out = Path(work), Path(out)
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(work, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, out)


def move_files_into(work, out, last="report.md"):
    """Move each file of ``work`` into ``out``, replacing those of the same
    name and ``last`` last (a reader who sees it sees every file), then
    remove ``work``: for a folder that holds other files too (a study).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfashion.utils import move_files_into
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "work").mkdir(); (root / "out").mkdir()
    >>> (root / "work" / "report.md").write_text("done")
    4
    >>> move_files_into(root / "work", root / "out")
    >>> sorted(p.name for p in root.iterdir()), (root / "out" / "report.md").exists()
    (['out'], True)
    """
    work, out = Path(work), Path(out)
    try:
        files = sorted(work.iterdir(), key=lambda p: p.name == last)
        for path in files:
            target = out / path.name
            if target.is_dir():
                shutil.rmtree(target)
            path.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
