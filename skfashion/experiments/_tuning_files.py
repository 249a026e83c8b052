"""The tuning report's files: report.md, tuning.json, trials.csv, the model
and three figures (optimization history, parameter importances, learning
curves). Written into a temporary folder that ``TuningResult.write`` moves
into place."""

import json
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from optuna.trial import TrialState
from optuna.visualization import matplotlib as vis

from ..io import save_model
from ..utils import describe_machine
from ._markdown import pct
from ._timing import format_duration
from ._trials import trial_counts
from ._tuning_template import REPORT

__all__ = ["shown_storage", "tuning_summary", "write_tuning_report"]


def tuning_summary(result, storage, total_seconds):
    """Every number of a tuning, as tuning.json holds them."""
    s = result.settings
    return {
        **result.summary,
        "trials": _counts(result.study),
        "total_seconds": round(total_seconds, 1),
        "settings": {
            "model": s["model"],
            "epochs": s["epochs"],
            "cv": s["cv"],
            "seed": s["seed"],
            "budget_seconds": s["budget_seconds"],
            "trials": s["trials"],
            "quick": s["quick"],
            "study": result.study.study_name,
            "storage": storage,
            "space": s["space"],
        },
        "machine": _machine(result.model[-1]),
    }


def write_tuning_report(folder, result, summary, space_source):
    """The tuning report of ``result`` (a TuningResult) into ``folder``."""
    study, pipe = result.study, result.model
    save_model(pipe, folder / "model.safetensors")
    trials = study.trials_dataframe(
        attrs=("number", "state", "value", "params", "user_attrs", "duration")
    )
    trials.to_csv(folder / "trials.csv", index=False)
    figures = _figures(folder, study)
    (folder / "tuning.json").write_text(json.dumps(summary, indent=2, default=str))
    (folder / "report.md").write_text(_markdown(summary, figures, space_source))


def shown_storage(url, folder):
    """The study's storage as the report in ``folder`` names it: a file in
    the report's folder by its name (the report moves with its folder),
    other storages as given."""
    if url is None:
        return "memory"
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else url
    if "://" in path:
        return url
    try:
        relative = Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:  # outside the report's folder
        return url
    prefix = "sqlite:///" if url.startswith("sqlite:///") else ""
    return prefix + os.fspath(relative)


def _counts(study):
    counts = trial_counts(study)
    del counts["finished"]
    fold_epochs = sum(
        t.user_attrs.get("fold_epochs", 0) for t in study.get_trials(deepcopy=False)
    )
    return {k: v for k, v in counts.items() if v} | {"fold_epochs": fold_epochs}


def _figures(folder, study):
    """The three figures; a figure Optuna cannot draw yet (too few complete
    trials) is replaced by a line in the report saying why."""
    made = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's experimental notes
        for name, draw in (
            ("history.png", vis.plot_optimization_history),
            ("importances.png", vis.plot_param_importances),
        ):
            try:
                ax = draw(study)
            except (ValueError, RuntimeError, ZeroDivisionError) as exc:
                made[name] = f"not drawn: {exc}"
                continue
            ax.figure.set_size_inches(7, 4.5)
            ax.figure.tight_layout()
            ax.figure.savefig(folder / name, dpi=110)
            plt.close(ax.figure)
            made[name] = None
    made["learning_curves.png"] = _learning_curves(
        folder / "learning_curves.png", study
    )
    return made


def _learning_curves(path, study):
    """Each trial's cross-validated accuracy after each epoch: complete trials
    as lines, pruned ones faded and ending in a cross where they stopped."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for t in study.get_trials(deepcopy=False):
        if not t.intermediate_values:
            continue
        steps = sorted(t.intermediate_values)
        values = [100 * t.intermediate_values[s] for s in steps]
        if t.state == TrialState.COMPLETE:
            ax.plot(steps, values, "-", lw=1.4, alpha=0.9)
        else:
            ax.plot(steps, values, "-", color="0.6", lw=0.8, alpha=0.6)
            ax.plot(steps[-1:], values[-1:], "x", color="tab:red", ms=5)
    ax.plot([], [], "x", color="tab:red", label="pruned here")
    ax.plot([], [], "-", color="0.6", label="pruned trial")
    ax.set_xlabel("epochs trained")
    ax.set_ylabel("cross-validated accuracy (%)")
    ax.set_title("Learning curve of every trial")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def _machine(net):
    return describe_machine(net, packages=("skfashion", "torch", "optuna"))


def _markdown(s, figures, space_source):
    counts, m, settings = s["trials"], s["machine"], s["settings"]
    return REPORT.substitute(
        model=settings["model"],
        cv=settings["cv"],
        subset="a quick subset of " if settings["quick"] else "",
        epochs=settings["epochs"],
        seed=settings["seed"],
        pruner=s["pruner"],
        space_source=space_source,
        study=settings["study"],
        storage=settings["storage"],
        cv_score=pct(s["cv_score"]),
        spread=f" ± {pct(s['cv_std'])}" if s.get("cv_std") is not None else "",
        splits=", ".join(pct(x) for x in s.get("cv_splits") or []),
        test_accuracy=pct(s["test_accuracy"]),
        complete=counts.get("complete", 0),
        pruned=counts.get("pruned", 0),
        failed=counts.get("fail", 0),
        fold_epochs=counts["fold_epochs"],
        search_time=format_duration(s["search_seconds"]),
        refit_time=format_duration(s["refit_seconds"]),
        total_time=format_duration(s["total_seconds"]),
        caveat=_caveat(s),
        best_trial=s["best_trial"],
        params="\n".join(f"| `{k}` | `{v!r}` |" for k, v in s["best_params"].items()),
        images=_images(figures),
        **{k: m[k] for k in _MACHINE_KEYS},
        gpu=f" ({m['gpu']})" if m["gpu"] else "",
    )


_MACHINE_KEYS = (
    "cpu",
    "cpu_cores",
    "torch_threads",
    "device",
    "precision",
    "skfashion",
    "torch",
    "optuna",
    "python",
)


def _caveat(s):
    if s["best_complete"]:
        return ""
    return (
        "\n**No trial completed within the budget**: these are the parameters "
        "of the trial with the best score when it was stopped.\n"
    )


def _images(figures):
    return "\n\n".join(
        f"![{name}]({name})" if note is None else f"*{name}: {note}*"
        for name, note in figures.items()
    )
