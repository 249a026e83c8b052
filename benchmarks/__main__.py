"""Run the benchmarks: ``python -m benchmarks [--quick|--full] [--out DIR] [NAME ...]``.

Each benchmark prints a table and writes ``<out>/<name>.json`` with the machine,
the library versions and the medians of several runs.
``python -m benchmarks original --models mlp --seeds 0 1 2`` runs the original
report's Keras code in a virtual environment of its own (see
``benchmarks/original``).
"""

import argparse
import importlib
import sys

from ._common import table, write

BENCHMARKS = [
    "loader",
    "training",
    "speed",
    "busy",
    "startup",
    "search",
    "memory",
    "fast",
    "profile",
    "parity",
    "tuning",
    "onnx",
    "estimate",
    "serve",
    "shift",
    "held_out",
    "probe",
]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["original"]:
        from .original import main as original

        return original(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes (default)")
    size.add_argument("--full", action="store_true", help="full sizes, more repeats")
    parser.add_argument("--out", default="benchmarks/results", help="JSON folder")
    parser.add_argument("names", nargs="*", choices=[[]] + BENCHMARKS, default=[])
    args = parser.parse_args(argv)
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}")
        if getattr(module, "OWN_JSON", False):  # its own form of JSON
            rows = module.run(quick=not args.full, out=args.out)
            path = f"{args.out}/{name}.json"
        else:
            rows = module.run(quick=not args.full)
            path = write(name, rows, args.out)
        columns = list(dict.fromkeys(k for r in rows for k in r))
        print(table(rows, columns))
        print(f"-> {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
