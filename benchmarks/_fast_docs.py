"""fast.rst and fast.png from fast.json: the tables and the figure the docs
include (``bench_fast.py`` writes them after every run)."""

import json

import numpy as np

from ._common import cores

TITLES = {"mlp": "FashionMLP", "cnn": "FashionCNN", "fast": "FastFashionCNN"}


def _pct(values):
    values = np.asarray(values, dtype=float) * 100
    if len(values) > 1:
        return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}"
    return f"{values.mean():.2f}"


def _change(diffs):
    return f"{100 * np.mean(diffs):+.2f}"


def _fits(record, part, params=None, model="fast"):
    return [
        f
        for f in record["fits"]
        if f["part"] == part
        and f["model"] == model
        and (params is None or f["params"] == params)
    ]


def _grid(header, rows):
    """An RST list-table."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        row = [cell if cell != "" else "—" for cell in row]  # no empty cells
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines)


def default_params(record):
    return {"max_epochs": 2} if record.get("quick") else {}


def tables(record):
    """The RST of the default, ablation and epochs tables."""
    base = _fits(record, "default", default_params(record))
    out = [
        f"Measured on: {record.get('cpu_detail', record['cpu'])} "
        f"({cores(record['machine'])} cores, "
        f"torch {record['machine']['torch']}, precision "
        f"{base[0]['precision'] if base else '?'})."
    ]
    if base:
        rows = [
            [
                f["seed"],
                f"{100 * f['test_acc']:.2f}",
                f"{100 * f['test_acc_no_tta']:.2f}",
                f"{f['train_s']:.0f}",
            ]
            for f in sorted(base, key=lambda f: f["seed"])
        ]
        rows.append(
            [
                "mean",
                _pct([f["test_acc"] for f in base]),
                _pct([f["test_acc_no_tta"] for f in base]),
                f"{np.mean([f['train_s'] for f in base]):.0f}",
            ]
        )
        out += [
            "",
            "**FastFashionCNN() defaults**",
            "",
            _grid(
                ["seed", "test accuracy %", "without TTA %", "training s"],
                rows,
            ),
        ]
    previous = [f for f in record["fits"] if f["part"] == "previous"]
    if base and previous:
        same = [f for f in base if f["seed"] == previous[0]["seed"]]
        labelled = [("previous release (0.1)", f) for f in previous]
        labelled += [("this release", f) for f in same]
        rows = [
            [
                label,
                f["precision"],
                f["seed"],
                f"{100 * f['test_acc']:.2f}",
                f"{f['train_s']:.0f}",
                f"{f['train_s'] / previous[0]['train_s']:.2f}",
            ]
            for label, f in labelled
        ]
        out += [
            "",
            "**Against the previous release, same CPU**",
            "",
            _grid(
                [
                    "FastFashionCNN()",
                    "precision",
                    "seed",
                    "test accuracy %",
                    "training s",
                    "÷ previous",
                ],
                rows,
            ),
        ]
    abl = [f for f in record["fits"] if f["part"] == "ablation"]
    if base and abl:
        from .bench_fast import ABLATION

        by_seed = {f["seed"]: f for f in base}
        rows = [
            [
                "nothing (the defaults)",
                len(base),
                _pct([f["test_acc"] for f in base]),
                "",
                f"{np.mean([f['train_s'] for f in base]):.0f}",
            ],
            [
                "mirror test-time augmentation",
                len(base),
                _pct([f["test_acc_no_tta"] for f in base]),
                _change([f["test_acc_no_tta"] - f["test_acc"] for f in base]),
                f"{np.mean([f['train_s'] for f in base]):.0f}",
            ],
        ]
        for label, params in ABLATION.items():
            fits = [
                f for f in abl if f["params"] == {**params, **default_params(record)}
            ]
            if not fits:
                rows.append([label, 0, "not run yet", "", ""])
                continue
            diffs = [
                f["test_acc"] - by_seed[f["seed"]]["test_acc"]
                for f in fits
                if f["seed"] in by_seed
            ]
            # cpu_shared: set by hand on a fit timed while other work ran
            busy = " (CPU shared)" if any(f.get("cpu_shared") for f in fits) else ""
            rows.append(
                [
                    label,
                    len(fits),
                    _pct([f["test_acc"] for f in fits]),
                    _change(diffs) if diffs else "",
                    f"{np.mean([f['train_s'] for f in fits]):.0f}{busy}",
                ]
            )
        out += [
            "",
            "**Ablation: each ingredient removed in turn**",
            "",
            _grid(
                [
                    "removed",
                    "seeds",
                    "test accuracy %",
                    "change (points, same seeds)",
                    "training s",
                ],
                rows,
            ),
        ]
    epochs = _fits(record, "epochs")
    if epochs or base:
        counts = {}
        for f in epochs + base:
            counts.setdefault(f["epochs"], []).append(f)
        rows = [
            [
                n,
                len(fits),
                _pct([f["test_acc"] for f in fits]),
                f"{np.mean([f['train_s'] for f in fits]):.0f}",
            ]
            for n, fits in sorted(counts.items())
        ]
        out += [
            "",
            "**Epochs: the time-accuracy knob**",
            "",
            _grid(["max_epochs", "seeds", "test accuracy %", "training s"], rows),
        ]
    return "\n".join(out) + "\n"


def points(record):
    """(model, epochs, mean seconds, mean accuracy, seeds) of every
    configuration: the figure's points."""
    groups = {}
    for f in record["fits"]:
        if f["part"] in ("ablation", "previous"):  # not a point of the front
            continue
        groups.setdefault((f["model"], f["epochs"]), []).append(f)
    return [
        (
            model,
            epochs,
            float(np.mean([f["train_s"] for f in fits])),
            float(np.mean([f["test_acc"] for f in fits])),
            len(fits),
        )
        for (model, epochs), fits in sorted(groups.items())
    ]


def pareto(pts):
    """The points no other point beats in both time and accuracy, fastest
    first: the front."""
    front = []
    for p in sorted(pts, key=lambda p: (p[2], -p[3])):
        if not front or p[3] > front[-1][3]:
            front.append(p)
    return front


def _seconds(value, _pos=None):
    return f"{value / 60:g} min" if value >= 60 else f"{value:g} s"


def _label_epochs(ax, epochs, x, y):
    """Each point's epoch count beside it."""
    for n, xi, yi in zip(epochs, x, y, strict=True):
        ax.annotate(
            f"{n}", (xi, yi), textcoords="offset points", xytext=(4, -10), fontsize=7
        )


def figure(record, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    pts = points(record)
    for model, title in TITLES.items():
        mine = [p for p in pts if p[0] == model]
        if not mine:
            continue
        x = [p[2] for p in mine]
        y = [100 * p[3] for p in mine]
        (line,) = ax.plot(x, y, "o-", label=title)
        seeds = [
            f
            for f in record["fits"]
            if f["model"] == model and f["part"] not in ("ablation", "previous")
        ]
        if any(p[4] > 1 for p in mine):  # each seed, faint, beside the means
            ax.plot(
                [f["train_s"] for f in seeds],
                [100 * f["test_acc"] for f in seeds],
                ".",
                color=line.get_color(),
                alpha=0.4,
            )
        _label_epochs(ax, [p[1] for p in mine], x, y)
    previous = [f for f in record["fits"] if f["part"] == "previous"]
    if previous:
        x = [f["train_s"] for f in previous]
        y = [100 * f["test_acc"] for f in previous]
        ax.plot(x, y, "s", color="grey", label="FastFashionCNN, previous release")
        _label_epochs(ax, [f["epochs"] for f in previous], x, y)
    front = pareto(pts)
    if len(front) > 1:
        ax.step(
            [p[2] for p in front],
            [100 * p[3] for p in front],
            where="post",
            color="black",
            linestyle="--",
            linewidth=0.8,
            alpha=0.5,
            label="Pareto front",
        )
    ax.axvline(600, color="grey", linestyle=":", linewidth=1)
    ax.text(600, ax.get_ylim()[0], "10 min ", fontsize=7, color="grey", ha="right")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([10, 30, 60, 120, 300, 600, 1200, 1800]))
    ax.xaxis.set_major_formatter(FuncFormatter(_seconds))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(
        xlabel="training time (log scale)",
        ylabel="test accuracy, %",
        title=f"Time vs accuracy (labels: epochs; dots: seeds)\n"
        f"{record.get('cpu_detail', record['cpu'])}, "
        f"{cores(record['machine'])} cores",
    )
    ax.title.set_fontsize(9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="center right")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_docs(record, out):
    (out / "fast.rst").write_text(tables(record))
    figure(record, out / "fast.png")
    return json.dumps(points(record))
