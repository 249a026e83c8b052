"""Shared helpers: timing, machine description, JSON output."""

import json
import os
import platform
import statistics
import time
from pathlib import Path


def machine():
    """The machine and library versions, for the JSON records."""
    import numpy
    import sklearn
    import skorch
    import torch

    import skfashion
    from skfashion._hardware import cpu_name

    cpu = cpu_name()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "skfashion": skfashion.__version__,
    }


def repeat(fn, repeats):
    """Run ``fn`` ``repeats`` times; return (median seconds, all seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def table(rows, columns):
    widths = [
        max(len(str(c)), *(len(str(r.get(c, ""))) for r in rows)) for c in columns
    ]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            "  ".join(
                str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)
            )
        )
    return "\n".join(lines)


def write(name, results, out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    return path
