"""Where ``skfashion report`` keeps the checkpoints of a run, and whose they are.

Every run has a folder of its own, ``<out>.checkpoints/<key>/``, named by
the settings that decide what it trains (models, seeds, epochs, quick mode,
precision, device), with one subfolder per fit and the settings in
``settings.json``. A run deletes only its own folder, and only when it has
finished, so another run into the same ``--out`` (``--quick`` after an
interrupted full run, say) never touches the checkpoints of the first.
"""

import hashlib
import json
import shutil
from pathlib import Path

__all__ = ["RunCheckpoints"]


class RunCheckpoints:
    """The checkpoint folder of one run of ``skfashion report``.

    Parameters
    ----------
    out : path-like
        The report's output folder; checkpoints go beside it.
    settings : dict
        What decides the run's training, as JSON-able values.

    Examples
    --------
    >>> from skfashion.cli.report._checkpoints import RunCheckpoints
    >>> a = RunCheckpoints("report", {"models": ["mlp"], "quick": True})
    >>> b = RunCheckpoints("report", {"models": ["mlp"], "quick": False})
    >>> a.folder.parent == b.folder.parent and a.folder != b.folder
    True
    """

    def __init__(self, out, settings):
        out = Path(out)
        self.root = out.with_name(out.name + ".checkpoints")
        self.settings = settings
        text = json.dumps(settings, sort_keys=True)
        self.folder = self.root / hashlib.sha256(text.encode()).hexdigest()[:12]

    def job_folder(self, name, seed):
        """The checkpoint folder of one fit (a model and a seed)."""
        return self.folder / f"{name}-seed{seed}"

    def saved(self):
        """Whether an interrupted run of these settings left checkpoints."""
        return self.folder.is_dir() and any(self.folder.glob("*/*.pt"))

    def epochs_done(self, name, seed):
        """Epochs the fit of ``name`` with ``seed`` finished before it was
        interrupted (0 if it has no checkpoint)."""
        from skfashion.callbacks._resume import saved_epochs

        return max(saved_epochs(self.job_folder(name, seed)).values(), default=0)

    def other_runs(self):
        """The settings of the other runs whose checkpoints are kept here."""
        runs = []
        for folder in sorted(self.root.glob("*/settings.json")):
            if folder.parent != self.folder and any(folder.parent.glob("*/*.pt")):
                try:
                    runs.append(json.loads(folder.read_text()))
                except (OSError, ValueError):
                    continue
        return runs

    def open(self):
        """Make the run's folder and record its settings."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "settings.json").write_text(
            json.dumps(self.settings, indent=2, sort_keys=True) + "\n"
        )

    def remove(self):
        """Delete this run's checkpoints (and the parent folder if empty)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.tidy()

    def tidy(self):
        """Remove the folders an unfinished run leaves with nothing in them."""
        if self.folder.is_dir() and not self.saved():
            shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.root.rmdir()  # only if empty: other runs' checkpoints stay
        except OSError:
            pass
