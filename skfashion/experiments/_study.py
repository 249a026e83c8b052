"""The study of a tuning: its storage, shared by processes and machines,
created or resumed, and the trials that were cut short."""

import os
import socket
import time
import warnings
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import (
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
    fail_stale_trials,
)
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

__all__ = [
    "PRUNER",
    "fail_dead_trials",
    "finished",
    "new_study",
    "open_study",
    "owned",
]

# successive halving over epochs: rungs at 1, 4, 16, ... epochs, keeping a
# quarter of the trials at each
PRUNER = {"min_resource": 1, "reduction_factor": 4}


def _storage(url):
    """An Optuna storage for a URL (database, with heartbeats so that the
    trials of a killed process are failed and retried) or a journal file."""
    if "://" not in url:
        return JournalStorage(JournalFileBackend(url))
    engine = {}
    if url.startswith("sqlite:///"):
        _create_sqlite_whole(Path(url[len("sqlite:///") :]))
        # processes sharing the file wait for each other's writes
        engine = {"connect_args": {"timeout": 60}}
    for attempt in range(6):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(
                    url,
                    engine_kwargs=engine,
                    heartbeat_interval=30,
                    grace_period=120,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                        max_retry=2
                    ),
                )
        except Exception as exc:
            from sqlalchemy.exc import IntegrityError, OperationalError

            # another process creating the same tables: try again
            racing = isinstance(exc, IntegrityError | OperationalError)
            if not racing or attempt == 5:
                raise ValueError(f"storage {url}: {exc}") from None
            time.sleep(0.2 * 2**attempt)


def _create_sqlite_whole(path):
    """Create a SQLite storage with Optuna's whole schema, or leave an
    existing one: the schema is written into a file of this process's,
    which then appears under ``path`` in one step (a hard link, which never
    replaces a file another process made first). A reader or writer that
    opens ``path`` meanwhile -- another ``skfashion tune``, a dashboard, a
    script calling ``optuna.load_study`` -- never meets a half-created
    database (whose schema it would try to create too, and fail on a
    unique constraint)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(f"sqlite:///{tmp}")
        storage.engine.dispose()
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process was first: use its file
            pass
    finally:
        tmp.unlink(missing_ok=True)


def new_study(storage=None, study_name=None, *, seed=0, load_if_exists=False):
    """An Optuna study as a tuning runs it: maximizing, a TPE sampler seeded
    with ``seed`` and successive halving over epochs."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.SuccessiveHalvingPruner(**PRUNER),
        load_if_exists=load_if_exists,
    )


def open_study(storage, study_name, *, settings=None, resume=False, seed=0):
    """Open a study that processes and machines share, safely.

    Creates the study, or with ``resume`` loads it (another process's, or
    an interrupted run's), and refuses to touch an existing study without
    it. A study keeps the ``settings`` it was made with and refuses others
    (trials of other epochs or folds are not comparable). Trials that were
    cut short are tried again: a trial whose process is gone (killed, or its
    machine lost: on this machine a process that no longer runs, on any a
    database heartbeat older than two minutes) is marked failed, and each
    failed trial's parameters are queued once more.

    Parameters
    ----------
    storage : str
        A database URL (``sqlite:///...``, ``postgresql://...``,
        ``mysql://...``; with heartbeats) or the path of an Optuna journal
        file. A new SQLite file appears whole, so that a process opening it
        meanwhile never meets a half-created schema.
    study_name : str
        The study's name in the storage.
    settings : dict, default=None
        What makes its trials comparable (JSON-able).
    resume : bool, default=False
        Continue or join an existing study.
    seed : int, default=0
        The sampler's seed. A process joining a study samples on a stream of
        its own (the seed plus its process id), so that parallel workers do
        not repeat each other.

    Returns
    -------
    study : optuna.Study

    Raises
    ------
    FileExistsError
        If the study exists and ``resume`` is False.
    ValueError
        If the storage cannot be opened, or the study was made with other
        ``settings``.

    Examples
    --------
    >>> import tempfile
    >>> from skfashion.experiments import open_study
    >>> folder = tempfile.mkdtemp()
    >>> study = open_study(f"{folder}/journal.log", "demo", settings={"cv": 3})
    >>> study.user_attrs["settings"]
    {'cv': 3}
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage_url, storage = storage, _storage(storage)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    if study_name in names and not resume:
        raise FileExistsError(
            f"study {study_name!r} already exists in {storage_url}: continue it "
            "with resume=True, or give another study name or storage"
        )
    joining = study_name in names
    study = new_study(
        storage,
        study_name,
        seed=seed + (os.getpid() if joining else 0),
        load_if_exists=True,
    )
    saved = study.user_attrs.get("settings")
    if saved is None and settings is not None:
        study.set_user_attr("settings", settings)
    elif settings is not None and saved != settings:
        raise ValueError(
            f"study {study_name!r} was tuning other settings ({_describe(saved)})"
        )
    fail_dead_trials(study)
    _retry_interrupted(study)
    return study


def _describe(settings):
    if not {"model", "epochs", "cv"} <= set(settings):
        return repr(settings)
    return (
        f"model {settings['model']}, epochs {settings['epochs']}, cv "
        f"{settings['cv']}{', quick' if settings.get('quick') else ''}"
    )


def _retry_interrupted(study):
    """Queue again, once, the parameters of each failed trial (a Ctrl-C, a
    SIGTERM): no trial that was cut short is lost. Trials that Optuna's
    heartbeat already retried (a killed process) are not queued twice."""
    retried = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        for t in study.get_trials(deepcopy=False):
            retried.add(t.user_attrs.get("retry_of"))
            retried.add(RetryHeartbeatStaleTrialCallback.retried_trial_number(t))
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if trial.number not in retried:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})


def finished(study):
    """The trials of ``study`` that completed or were pruned."""
    return study.get_trials(
        deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)
    )


# ------------------------------------------------------- trials of the dead
def _process_token(pid=None):
    """This machine, a process and when it started: what names the process
    that runs a trial (a pid alone may be reused)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid):
    """The process's start time in clock ticks since boot, or "" where the
    kernel does not say (fields after the command name, which may hold
    spaces, in /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def _alive(token):
    """Whether the process named by ``token`` still runs; True for another
    machine's (its heartbeat tells) or a token that cannot be read."""
    host, _, rest = str(token).partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        pass
    return _start_time(int(pid)) == started


def owned(objective):
    """The objective, recording in each trial the process that runs it."""
    token = _process_token()

    def run(trial):
        trial.set_user_attr("process", token)
        return objective(trial)

    return run


def fail_dead_trials(study):
    """Mark failed the running trials whose process is gone -- killed, or
    its machine lost: on this machine, a process that no longer runs; on
    any, a heartbeat older than the grace period (Optuna's
    ``fail_stale_trials``). ``_retry_interrupted`` then queues their
    parameters again; a finished run lists no trial as running."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        fail_stale_trials(study)
    storage = study._storage  # Optuna's documented storage API, on the study
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        token = trial.user_attrs.get("process")
        if token is not None and not _alive(token):
            try:
                storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            except RuntimeError:  # finished meanwhile: nothing to mark
                continue
