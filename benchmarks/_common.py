"""Shared helpers: timing, machine description, JSON output."""

import json
import statistics
import time
from pathlib import Path


def machine():
    """The machine and library versions, for the JSON records (the keys of
    :func:`skfashion.utils.describe_machine`; records before 0.2 called
    ``cpu_cores`` ``cores``: read it with :func:`cores`)."""
    from skfashion.utils import describe_machine

    return describe_machine(
        packages=("skfashion", "torch", "skorch", "scikit-learn", "numpy")
    )


def previous_fast_params():
    """The parameters that train ``FastFashionCNN()`` as the previous release
    (0.1) did on this CPU: bfloat16 wherever the CPU's flags show AVX512-BF16
    or AMX, glibc's ``malloc`` thresholds untouched."""
    from skfashion.utils import cpu_detail

    detail = cpu_detail()
    bf16 = "AMX" in detail or "AVX512-BF16" in detail
    return {"precision": "bfloat16" if bf16 else "float32", "callbacks__malloc": None}


def cores(machine):
    """The number of cores of a record's machine, old records included."""
    return machine.get("cpu_cores", machine.get("cores"))


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
