"""``skfashion report``: re-run the original report's experiment in one command.

``run`` adds what a command needs around the experiment's steps
(``_experiment.py``) and its writers (``_outputs.py``): the estimate of the
duration, progress, Ctrl-C, and the output folder written aside and moved
into place. Those two are imported when a report runs, not for ``--help``.
"""

import shutil
import sys
import time

from skfashion.utils import move_into_place

from .._common import (
    ArgumentError,
    format_duration,
    interruptible,
    keep_partial,
    make_workdir,
)
from ._config import TITLES, config_from_args

__all__ = ["HELP", "run"]

HELP = "reproduce the original report: train, evaluate, write a report"


def _resume_note(checkpoints, config):
    """What --resume (or its absence) will do with the checkpoints kept."""
    if not config.resume and checkpoints.saved():
        raise ArgumentError(
            f"{checkpoints.folder} holds the checkpoints of an interrupted run "
            "with these settings: continue it with --resume, or delete that "
            "folder to start over"
        )
    if config.resume and not checkpoints.saved():
        others = checkpoints.other_runs()
        kept = (
            f"; {checkpoints.root} holds {len(others)} run(s) with other "
            "settings: " + "; ".join(_describe(o) for o in others)
            if others
            else ""
        )
        return f"Nothing to resume with these settings{kept}. Starting from the start."
    if config.resume:
        return _reuse_note(checkpoints, config)
    return None


def _reuse_note(checkpoints, config):
    """What a resumed run takes over: the finished fits, the epochs of the
    interrupted ones."""
    finished, partial = [], []
    for name in config.models:
        for seed in config.seeds[name]:
            epochs = config.epochs[name]
            if checkpoints.finished_numbers(name, seed) is not None:
                finished.append(f"{name} seed {seed}")
            elif done := checkpoints.epochs_done(name, seed):
                partial.append(f"{name} seed {seed} ({done} of {epochs} epochs)")
    words = []
    if finished:
        words.append(f"{len(finished)} finished fit(s): {', '.join(finished)}")
    if partial:
        words.append(f"the checkpoints of {', '.join(partial)}")
    if not words:  # unreadable checkpoints only: they start over
        return None
    return f"Resuming from {checkpoints.folder}: reusing {'; and '.join(words)}."


def _describe(settings):
    """A run's settings as command-line options."""
    words = [f"--models {','.join(settings['models'])}"]
    epochs = ",".join(f"{m}={e}" for m, e in settings["epochs"].items())
    words.append(f"epochs {epochs}")
    if settings["quick"]:
        words.append("--quick")
    return " ".join(words)


def run(args, parser):
    from ._checkpoints import RunCheckpoints  # numpy and skfashion: not for --help

    try:
        config = config_from_args(args)
        checkpoints = RunCheckpoints(config.out, config.settings())
        note = _resume_note(checkpoints, config)
        work = make_workdir(config.out)
    except ArgumentError as exc:
        print(f"skfashion report: error: {exc}", file=sys.stderr)
        return 2
    if note:
        print(note)
    from ._experiment import Interrupted

    started = time.perf_counter()
    with interruptible() as stop:
        try:
            checkpoints.open()
            _run(config, work, checkpoints, stop, started)
            move_into_place(work, config.out)
            checkpoints.remove()
        except (KeyboardInterrupt, Interrupted):
            print(_interrupted(stop, work, config.out, checkpoints), file=sys.stderr)
            return stop.exit_code
        except OSError as exc:  # a full disk, say: what finished is kept
            shutil.rmtree(work, ignore_errors=True)
            kept = (
                f"; what finished is kept: run again with --resume to continue "
                f"from {checkpoints.folder}"
                if checkpoints.saved()
                else ""
            )
            print(f"skfashion report: error: {exc}{kept}", file=sys.stderr)
            return 1
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            checkpoints.tidy()
    total = time.perf_counter() - started
    print(f"Report written to {config.out}/report.md in {format_duration(total)}.")
    return 0


def _interrupted(stop, work, out, checkpoints):
    """Keep what finished; say what was kept and how to continue."""
    kept = keep_partial(work, out)
    where = f"; finished models kept in {kept}" if kept else ""
    if checkpoints.saved():
        where += f"; run again with --resume to continue from {checkpoints.folder}"
    how = f" ({stop.name})" if stop.name not in (None, "SIGINT") else ""
    return f"skfashion report: interrupted{how}: {out} was not written{where}"


def _run(config, work, checkpoints, stop, started):
    """Load, time, train and evaluate every model, then write the report
    into ``work``."""
    from tqdm.auto import tqdm

    from . import _experiment as experiment
    from ._outputs import write_run_files

    data = experiment.load(config)
    clock = experiment.plan(config, data, checkpoints)
    experiment.announce(clock, config, tqdm.write)
    fits, evaluations = _train_all(config, data, clock, checkpoints, stop, work)
    total = time.perf_counter() - started
    run = {
        "titles": TITLES,
        "evaluations": evaluations,
        "comparisons": experiment.compare(fits, config.models, data),
        "environment": experiment.environment(fits[config.models[0]][0].pipe[-1]),
        "time": {
            "estimated_seconds": round(clock.estimate, 1),
            "actual_seconds": round(total, 1),
            "estimated": format_duration(clock.estimate),
            "actual": format_duration(total),
        },
        "protocol": {
            "n_train": len(data.y) - data.n_valid,
            "n_valid": data.n_valid,
            "n_test": len(data.y_test),
            "epochs": dict(config.epochs),
            "random_states": {m: list(s) for m, s in config.seeds.items()},
            "quick": config.quick,
        },
    }
    write_run_files(work, run)


def _train_all(config, data, clock, checkpoints, stop, work):
    """Every fit of the clock's plan, under one progress bar; each model's
    files are written as soon as its last seed is done."""
    from tqdm.auto import tqdm

    from . import _experiment as experiment
    from ._outputs import write_model_folder

    fits, evaluations = {}, {}
    bar_format = "{l_bar}{bar}| {n_fmt}/{total_fmt} batches [{elapsed}{postfix}]"
    with tqdm(
        total=clock.total_batches,
        initial=clock.batches_done_before,
        desc="overall",
        bar_format=bar_format,
    ) as bar:
        for i, job in enumerate(clock.jobs):
            clock.start(i)
            fit = experiment.reuse(job, checkpoints)
            if fit is None:
                folder = checkpoints.job_folder(job.name, job.seed)
                fit = experiment.train(
                    job, data, config, bar, clock, lambda: bool(stop), folder
                )
                checkpoints.keep_fit(fit)
            fits.setdefault(job.name, []).append(fit)
            if len(fits[job.name]) == len(config.seeds[job.name]):  # model done
                ev = evaluations[job.name] = experiment.evaluate(fits[job.name], data)
                tqdm.write(f"{job.name}: measuring under shift...")
                shift = experiment.under_shift(fits[job.name][0], data, config.quick)
                ev["shift"] = shift.numbers
                folder = work / job.name
                title = TITLES[job.name]
                write_model_folder(
                    folder, title, fits[job.name], ev, data, shift, onnx=config.onnx
                )
                tqdm.write(experiment.one_line(job.name, ev))
    return fits, evaluations
