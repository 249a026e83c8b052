"""Output folders: written aside, then put in place, never half-written."""

import os
import shutil
import tempfile
from pathlib import Path

from ._args import ArgumentError

__all__ = ["keep_partial", "make_workdir", "move_files_into", "move_into_place"]


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


def move_into_place(work, out):
    """Replace the folder ``out`` by ``work`` (the previous one is removed)."""
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
    remove ``work``: for a folder that holds other files too (a study)."""
    try:
        files = sorted(work.iterdir(), key=lambda p: p.name == last)
        for path in files:
            target = out / path.name
            if target.is_dir():
                shutil.rmtree(target)
            path.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
