"""``skfashion report``: parse, call :func:`skfashion.experiments.run_report`,
write, print.

What a command adds around the library: the checkpoints kept beside
``--out`` and the ``--resume`` rule, a progress bar and the estimate
printed, signals turned into a stop at the next batch, and the messages.
"""

import contextlib
import os
import sys
import time

from skfashion import experiments, utils

from .._common import ArgumentError, interruptible
from ._config import config_from_args
from ._progress import Progress

__all__ = ["HELP", "run"]

HELP = "reproduce the original report: train, evaluate, write a report"
LONG_RUN = 30 * 60  # seconds: say what would be faster


def _checkpoints(out):
    return out.with_name(out.name + ".checkpoints")


def _resume_note(store, resume):
    """What --resume (or its absence) will do with the checkpoints kept."""
    if not resume and store.saved():
        raise ArgumentError(
            f"{store.folder} holds the checkpoints of an interrupted run "
            "with these settings: continue it with --resume, or delete that "
            "folder to start over"
        )
    if resume and not store.saved():
        others = store.other_runs()
        kept = (
            f"; {store.root} holds {len(others)} run(s) with other "
            "settings: " + "; ".join(_describe(o) for o in others)
            if others
            else ""
        )
        return f"Nothing to resume with these settings{kept}. Starting from the start."
    return store.describe_reuse() if resume else None


def _describe(settings):
    """A run's settings as command-line options."""
    words = [f"--models {','.join(settings['models'])}"]
    epochs = ",".join(f"{m}={e}" for m, e in settings["epochs"].items())
    words.append(f"epochs {epochs}")
    if settings["quick"]:
        words.append("--quick")
    words += [
        f"--held-out {','.join(map(str, s))}" for s in settings.get("held_out", [])
    ]
    return " ".join(words)


def _writable(out):
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArgumentError(f"--out {out} is not writable ({exc.strerror})") from None
    if not os.access(out.parent, os.W_OK):
        raise ArgumentError(f"--out {out} is not writable (Permission denied)")


def run(args, parser):
    try:
        config, out = config_from_args(args)
        store = experiments.ReportCheckpoints(_checkpoints(out), config.settings())
        note = _resume_note(store, args.resume)
        _writable(out)
    except ArgumentError as exc:
        print(f"skfashion report: error: {exc}", file=sys.stderr)
        return 2
    if note:
        print(note)
    started = time.perf_counter()
    with interruptible() as stop:
        try:
            report = _run(config, out, stop)
            report.remove_checkpoints()
        except KeyboardInterrupt as exc:
            print(_interrupted(stop, exc, out, store), file=sys.stderr)
            return stop.exit_code
        except OSError as exc:  # a full disk, say: what finished is kept
            kept = (
                f"; what finished is kept: run again with --resume to continue "
                f"from {store.folder}"
                if store.saved()
                else ""
            )
            print(f"skfashion report: error: {exc}{kept}", file=sys.stderr)
            return 1
        finally:
            store.tidy()
    total = experiments.format_duration(time.perf_counter() - started)
    print(f"Report written to {out}/report.md in {total}.")
    return 0


def _run(config, out, stop):
    """The run, with a progress bar and skorch's epoch tables through tqdm."""
    from tqdm.contrib import DummyTqdmFile

    with Progress(config, announce=_announce) as progress:
        # skorch's epoch table goes through tqdm, so it does not break the bar
        with contextlib.redirect_stdout(DummyTqdmFile(sys.stdout)):
            report = experiments.run_report(
                config,
                checkpoints=_checkpoints(out),
                callbacks=[progress],
                should_stop=lambda: bool(stop),
                verbose=1 if config.n_jobs is None else 0,
            )
    report.write(out)
    return report


def _interrupted(stop, exc, out, store):
    """Keep what finished; say what was kept and how to continue."""
    where = ""
    report = getattr(exc, "report", None)
    if report is not None and report.evaluations:
        partial = out.with_name(out.name + ".partial")
        with contextlib.suppress(OSError, KeyboardInterrupt):
            where = f"; finished models kept in {report.write(partial)}"
    if store.saved():
        where += f"; run again with --resume to continue from {store.folder}"
    how = f" ({stop.name})" if stop.name not in (None, "SIGINT") else ""
    return f"skfashion report: interrupted{how}: {out} was not written{where}"


def _announce(plan, config, write):
    """The expected duration, before training; what helps when it is long."""
    write(plan.describe())
    if plan.estimate > LONG_RUN and utils.resolve_device(config.device) == "cpu":
        write(
            f"That is long on this CPU ({utils.cpu_name()}, {os.cpu_count()} cores): "
            "a GPU (--device cuda), --models mlp or --quick is faster. Continuing."
        )
