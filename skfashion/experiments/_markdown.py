"""report.md: the template of ``_template.py`` filled in with a run."""

from itertools import combinations

import numpy as np

from ..evaluation import recall_change_in_words
from ._tables import ORIGINAL_ACCURACY
from ._template import HELD_OUT_SECTION, MODEL_SECTION, REPORT, SHIFT_SECTION

__all__ = ["markdown", "pct", "write_markdown"]


def pct(x):
    """A fraction as a percentage with two decimals; a dash for None."""
    return "–" if x is None else f"{100 * x:.2f} %"


def write_markdown(folder, run):
    """report.md of a finished run."""
    (folder / "report.md").write_text(markdown(run))


def _accuracy_row(title, name, ev):
    s = ev["summary"]
    acc = pct(s["mean"]) + (f" ± {100 * s['std']:.2f}" if s["n"] > 1 else "")
    ci = "—" if s["ci95"] is None else " – ".join(pct(v) for v in s["ci95"])
    original = pct(ORIGINAL_ACCURACY[name]) if name in ORIGINAL_ACCURACY else "—"
    return (
        f"| {title} | {acc} | {ci} | {s['n']} | {original} | "
        f"{pct(ev['valid_accuracy'])} | {ev['train_seconds']:.0f} s |"
    )


def _calibration_md(titles, evaluations):
    """The calibration table: ECE as predicted and after temperature scaling."""
    rows = [
        "| model | ECE (test) | ECE after temperature scaling | temperature |",
        "|---|---|---|---|",
    ]
    for name, ev in evaluations.items():
        temps = ", ".join(f"{r['temperature']:.2f}" for r in ev["runs"])
        rows.append(
            f"| {titles[name]} | {pct(ev['ece'])} | "
            f"{pct(ev['ece_temperature'])} | {temps} |"
        )
    return "\n".join(rows)


def _comparisons_md(titles, comparisons):
    if not comparisons:
        return "One model only: nothing to compare."
    lines = [
        "McNemar's exact test on the first seed's predictions: of the test "
        "images that exactly one model of a pair gets right, how many each "
        "gets; if the two were equally good, each such image would be a coin "
        "flip.",
        "",
        "| models | right only by the first | right only by the second | p-value |",
        "|---|---|---|---|",
    ]
    for c in comparisons:
        lines.append(
            f"| {titles[c['a']]} vs {titles[c['b']]} | {c['a_only']} | "
            f"{c['b_only']} | {c['p_value']:.2g} |"
        )
    lines.append("")
    lines += [f"- {c['words']}" for c in comparisons]
    return "\n".join(lines)


def _discussion(titles, evaluations):
    lines = []
    if "mlp" in evaluations:
        lines.append(
            "The original's dense network confused T-shirt/top ↔ Shirt 103 and 96 "
            "times and Pullover → Shirt 64 times; this run's most confused pairs "
            "are listed above."
        )
    for a, b in combinations(evaluations, 2):
        ra, rb = (np.array(evaluations[m]["recall"]) for m in (a, b))
        words = recall_change_in_words(ra, rb)
        lines.append(f"From {titles[a]} to {titles[b]}, {words}")
    return "\n\n".join(lines) or "—"


def _seeds_text(random_states):
    """'(random states 0, 1, 2)', or per model when they differ."""
    distinct = {tuple(v) for v in random_states.values()}
    if len(distinct) == 1:
        return "(random states " + ", ".join(map(str, next(iter(distinct)))) + ")"
    return (
        "(random states "
        + "; ".join(f"{m} " + ", ".join(map(str, v)) for m, v in random_states.items())
        + ")"
    )


def _model_sections(titles, evaluations, n_test):
    """One section of report.md per model: its figures and confused pairs."""
    sections = []
    for name, ev in evaluations.items():
        confused = "\n".join(
            f"- {p['true']} → {p['predicted']}: {p['count']} "
            f"(and {p['reverse_count']} the other way)"
            for p in ev["most_confused"]
        )
        sections.append(
            MODEL_SECTION.substitute(
                title=titles[name],
                name=name,
                n_test=f"{n_test:,}",
                confused=confused,
                shift=_shift_md(name, ev["shift"]),
            )
        )
    return "".join(sections)


KINDS = {
    "digits": "handwritten digits (MNIST proxy)",
    "uniform": "uniform noise",
    "gaussian": "Gaussian noise",
    "constant": "constant images",
    "upside_down": "test images upside down",
}


def _detector_heads(methods, default):
    """The detectors' column heads, the saved one marked."""
    return [f"{m} (saved)" if m == default else m for m in methods]


def _detection_cell(scores):
    """``AUROC / FPR@95`` of one detector on one set of images."""
    return f"{scores['auroc']:.3f} / {pct(scores['fpr_at_tpr'])}"


def _held_out_md(held_out, default):
    """The table of how each detector flags classes the model never
    learned, a row per split and their mean."""
    methods = list(held_out["mean"])
    heads = _detector_heads(methods, default)
    rows = [
        "| held out | accuracy on the others | " + " | ".join(heads) + " |",
        "|---" * (len(heads) + 2) + "|",
    ]

    def cells(detectors):
        return " | ".join(_detection_cell(detectors[m]) for m in methods)

    for split in held_out["splits"]:
        classes = ", ".join(split["classes"])
        accuracy = pct(split["test_accuracy"])
        rows.append(f"| {classes} | {accuracy} | {cells(split['detectors'])} |")
    rows.append(f"| mean | | {cells(held_out['mean'])} |")
    seed = held_out["splits"][0]["random_state"]
    return HELD_OUT_SECTION.substitute(seed=seed, table="\n".join(rows))


def _shift_md(name, shift):
    """A model's "Under shift" subsection."""
    by_severity = shift["accuracy_by_severity"]
    severities = list(next(iter(by_severity.values())))
    mixed = shift["mixed_accuracy_by_corruption"]
    table = [
        "| corruption | "
        + " | ".join(f"severity {s}" for s in severities)
        + " | mixed set |",
        "|---" * (len(severities) + 2) + "|",
    ]
    for corruption, row in by_severity.items():
        cells = " | ".join(pct(row[s]) for s in severities)
        table.append(f"| {corruption} | {cells} | {pct(mixed.get(corruption))} |")
    detectors = shift["detectors"]
    default = shift["default_detector"]
    heads = _detector_heads(detectors, default)
    rows = ["| images | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for kind, words in KINDS.items():
        cells = " | ".join(_detection_cell(d[kind]) for d in detectors.values())
        rows.append(f"| {words} | {cells} |")
    accepted = " | ".join(pct(d["accepted_test"]) for d in detectors.values())
    rows.append(f"| test images accepted | {accepted} |")
    return SHIFT_SECTION.substitute(
        name=name,
        mixed=pct(shift["mixed_accuracy"]),
        clean=pct(shift["clean_accuracy"]),
        mixed_ece=pct(shift["mixed_ece"]),
        mixed_ece_t=pct(shift["mixed_ece_temperature"]),
        n_cell=f"{shift['n_per_severity']:,}",
        severity_table="\n".join(table),
        sel90=pct(shift["selective_accuracy_90"]),
        sel80=pct(shift["selective_accuracy_80"]),
        n_in=f"{shift['n_in']:,}",
        n_out=f"{shift['n_out']:,}",
        default=default,
        detector_table="\n".join(rows),
        held_out=_held_out_md(shift["held_out_classes"], default)
        if "held_out_classes" in shift
        else "",
    )


def _epochs_text(epochs):
    """'10 epochs', or each model's when they differ."""
    if len(set(epochs.values())) == 1:
        n = next(iter(epochs.values()))
        return f"{n} epoch{'s' * (n != 1)}"
    return ", ".join(f"{n} epochs ({m})" for m, n in epochs.items())


ACCURACY_HEADER = (
    "| model | test accuracy | 95 % interval | seeds | original report "
    "(2020, one run) | validation | training per fit |\n"
    "|---|---|---|---|---|---|---|"
)
QUICK_NOTE = " **Quick mode: a smoke test on a few hundred images, not a result.**"


def markdown(run):
    """report.md: the template filled in with the run."""
    titles, evaluations, protocol = run["titles"], run["evaluations"], run["protocol"]
    fast = "fast" in evaluations
    return REPORT.substitute(
        fast_sentence=", beside `FastFashionCNN` with its own modern recipe"
        if fast
        else "",
        n_valid=f"{protocol['n_valid']:,}",
        n_train=f"{protocol['n_train']:,}",
        n_test=f"{protocol['n_test']:,}",
        epochs=_epochs_text(protocol["epochs"]),
        quick=QUICK_NOTE if protocol["quick"] else "",
        accuracy_header=ACCURACY_HEADER,
        accuracy_rows="\n".join(
            _accuracy_row(titles[n], n, ev) for n, ev in evaluations.items()
        ),
        seeds=_seeds_text(protocol["random_states"]),
        comparisons=_comparisons_md(titles, run["comparisons"]),
        calibration=_calibration_md(titles, evaluations),
        recall_png="recall.png",
        model_sections=_model_sections(titles, evaluations, protocol["n_test"]),
        discussion=_discussion(titles, evaluations),
        estimated=run["time"]["estimated"],
        actual=run["time"]["actual"],
        environment="\n".join(f"| {k} | {v} |" for k, v in run["environment"].items()),
    )
