"""Output folders: made beside their place, kept in part when a run is
interrupted (:func:`skfashion.utils.move_into_place` puts them in place)."""

import os
import shutil
import tempfile
from pathlib import Path

from ._args import ArgumentError

__all__ = ["keep_partial", "make_workdir"]


def make_workdir(out):
    """A temporary folder beside ``out``: moved into place when complete."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        work.chmod(0o777 & ~_umask())  # mkdtemp's 0o700: as mkdir would make it
        return work
    except OSError as exc:
        raise ArgumentError(f"--out {out} is not writable ({exc.strerror})") from None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def keep_partial(work, out):
    """Keep the models that finished, under a name that can't pass for a report."""
    if not any(work.iterdir()):
        shutil.rmtree(work, ignore_errors=True)
        return None
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (work / "INCOMPLETE").write_text(
        "This run of skfashion report was interrupted: only the models in "
        "this folder finished. It is not a report.\n"
    )
    os.replace(work, partial)
    return partial
