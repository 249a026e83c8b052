"""Where a report keeps the checkpoints of a run, and whose they are.

Every run has a folder of its own, ``<checkpoints>/<key>/``, named by
the settings that decide what it trains (models, seeds, epochs, quick mode,
precision, device), with one subfolder per fit and the settings in
``settings.json``. A fit that is under way keeps its last epoch there (the
estimator's ``ResumeCheckpoint``); a fit that finished keeps its model, its
test probabilities and its numbers (``model.safetensors``, ``proba.npy``,
``numbers.json``, the last written last; a fit without some classes,
``ReportConfig.held_out``, in ``<model>-seed<seed>-without-<classes>``), so
that ``--resume`` after any
interruption -- between seeds, between models, while the report is written
-- trains nothing twice. A run deletes only its own folder, and only when it
has finished, so another run into the same folder (a quick one after an
interrupted full run, say) never touches the checkpoints of the first.
``skfashion report --out OUT`` keeps them in ``OUT.checkpoints``.
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from ..callbacks import saved_epochs
from ..io import load_model, save_model
from ..utils import atomic_write
from ._report_config import run_fits

__all__ = ["FIT_FILES", "ReportCheckpoints"]

#: What a finished fit keeps, the last written last.
FIT_FILES = ("model.safetensors", "proba.npy", "numbers.json")


def _kept(folder):
    """Whether ``folder`` holds a fit's checkpoint or a finished fit."""
    return any(folder.glob("*/*.pt")) or any(folder.glob(f"*/{FIT_FILES[2]}"))


def _folder_name(name, seed, held_out):
    """``mlp-seed0``, or ``mlp-seed0-without-6-5`` for a fit without classes
    6 and 5."""
    folder = f"{name}-seed{seed}"
    return "-".join([folder, "without", *map(str, held_out)]) if held_out else folder


def _fit_name(name, held_out):
    """``mlp``, or ``mlp without 6, 5``."""
    return f"{name} without {', '.join(map(str, held_out))}" if held_out else name


class ReportCheckpoints:
    """The checkpoint folder of one run of a report.

    Parameters
    ----------
    root : path-like
        The folder of every run's checkpoints; this run's go in a
        subfolder named by its settings.
    settings : dict
        What decides the run's training, as JSON-able values
        (:meth:`ReportConfig.settings`).

    Examples
    --------
    >>> from skfashion.experiments import ReportCheckpoints
    >>> a = ReportCheckpoints("ckpt", {"models": ["mlp"], "quick": True})
    >>> b = ReportCheckpoints("ckpt", {"models": ["mlp"], "quick": False})
    >>> a.folder.parent == b.folder.parent and a.folder != b.folder
    True
    """

    def __init__(self, root, settings):
        self.root = Path(root)
        self.settings = settings
        text = json.dumps(settings, sort_keys=True)
        self.folder = self.root / hashlib.sha256(text.encode()).hexdigest()[:12]

    def job_folder(self, name, seed, held_out=()):
        """The checkpoint folder of one fit (a model and a seed, and the
        classes it never learns, if any)."""
        return self.folder / _folder_name(name, seed, held_out)

    def saved(self):
        """Whether an interrupted run of these settings left checkpoints or
        finished fits."""
        return self.folder.is_dir() and _kept(self.folder)

    def epochs_done(self, name, seed, held_out=()):
        """Epochs the fit of ``name`` with ``seed`` (without ``held_out``)
        finished before it was interrupted (0 if it has no checkpoint; all if
        it finished)."""
        finished = self.finished_numbers(name, seed, held_out)
        if finished is not None:
            return finished["epochs"]
        folder = self.job_folder(name, seed, held_out)
        return max(saved_epochs(folder).values(), default=0)

    def keep_fit(self, fit):
        """Keep a finished fit (its ``pipe``, test ``proba`` and ``numbers``)
        in the folder of its ``name``, ``seed`` and ``held_out``."""
        folder = self.job_folder(fit.name, fit.seed, fit.held_out)
        folder.mkdir(parents=True, exist_ok=True)
        save_model(fit.pipe, folder / FIT_FILES[0])
        with atomic_write(folder / FIT_FILES[1]) as tmp, open(tmp, "wb") as f:
            np.save(f, np.asarray(fit.proba))
        with atomic_write(folder / FIT_FILES[2]) as tmp:  # last: it says done
            tmp.write_text(json.dumps(fit.numbers, indent=1) + "\n")

    def finished_numbers(self, name, seed, held_out=()):
        """The numbers of a fit kept by :meth:`keep_fit`, or None."""
        path = self.job_folder(name, seed, held_out) / FIT_FILES[2]
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def finished_fit(self, name, seed, held_out=()):
        """``(pipe, proba, numbers)`` of a fit kept by :meth:`keep_fit`, or
        None if it did not finish (or its files cannot be read)."""
        numbers = self.finished_numbers(name, seed, held_out)
        if numbers is None:
            return None
        folder = self.job_folder(name, seed, held_out)
        try:
            pipe = load_model(folder / FIT_FILES[0])
            proba = np.load(folder / FIT_FILES[1], allow_pickle=False)
        except (OSError, ValueError):
            return None
        return pipe, proba, numbers

    def _kept_fits(self):
        """``(name, seed, held_out, epochs_done)`` of each fit of the
        settings that finished (``epochs_done`` None) or left a checkpoint,
        in the order the run trains them."""
        splits = self.settings.get("held_out", [])
        fits = run_fits(self.settings.get("random_states", {}), splits)
        for name, pairs in fits.items():
            for seed, held_out in pairs:
                if self.finished_numbers(name, seed, held_out) is not None:
                    yield name, seed, held_out, None
                elif done := self.epochs_done(name, seed, held_out):
                    yield name, seed, held_out, done

    def reusable(self):
        """What a run of these settings would take over: ``(finished,
        partial)``, the fits that finished as ``(name, seed)`` pairs and the
        interrupted ones as ``(name, seed, epochs_done)``, in the order the
        run trains them; a fit without some classes is named
        ``"<name> without <classes>"``.

        Examples
        --------
        >>> from skfashion.experiments import ReportCheckpoints, ReportConfig
        >>> config = ReportConfig(models="mlp", quick=True)
        >>> ReportCheckpoints("ckpt", config.settings()).reusable()
        ([], [])
        """
        finished, partial = [], []
        for name, seed, held_out, done in self._kept_fits():
            label = _fit_name(name, held_out)
            if done is None:
                finished.append((label, seed))
            else:
                partial.append((label, seed, done))
        return finished, partial

    def describe_reuse(self):
        """What :meth:`reusable` finds, in a sentence; None if nothing.

        Examples
        --------
        >>> from skfashion.experiments import ReportCheckpoints, ReportConfig
        >>> config = ReportConfig(models="mlp", quick=True)
        >>> ReportCheckpoints("ckpt", config.settings()).describe_reuse() is None
        True
        """
        kept = list(self._kept_fits())
        finished = [
            f"{_fit_name(name, held_out)} seed {seed}"
            for name, seed, held_out, done in kept
            if done is None
        ]
        epochs = self.settings.get("epochs", {})
        partial = [
            f"{_fit_name(name, held_out)} seed {seed} ({done} of {epochs[name]} epochs)"
            for name, seed, held_out, done in kept
            if done is not None
        ]
        words = []
        if finished:
            words.append(f"{len(finished)} finished fit(s): {', '.join(finished)}")
        if partial:
            words.append("the checkpoints of " + ", ".join(partial))
        if not words:  # none, or unreadable checkpoints only: they start over
            return None
        return f"Resuming from {self.folder}: reusing {'; and '.join(words)}."

    def other_runs(self):
        """The settings of the other runs whose checkpoints are kept here."""
        runs = []
        for folder in sorted(self.root.glob("*/settings.json")):
            if folder.parent != self.folder and _kept(folder.parent):
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
