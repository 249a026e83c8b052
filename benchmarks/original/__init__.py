"""The original report's Keras code, run side by side with skfashion.

``python -m benchmarks original --models mlp --seeds 0 1 2`` creates a
virtual environment with ``tensorflow-cpu`` in a cache folder (once), runs
the report's Keras models there with the report's protocol, and writes one
JSON per model to ``docs/results/original/``. TensorFlow and Keras never
enter skfashion, its extras, its tests or its CI: only this benchmark's own
environment has them.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

from skfashion import _catalog

TENSORFLOW = "tensorflow-cpu==2.21.0"
SCRIPT = Path(__file__).with_name("keras_models.py")
# the original report's single-run test accuracies, as skfashion report has them
REPORT = {name: m["test_accuracy"] for name, m in _catalog.ORIGINAL.items()}


def cache_dir():
    """Where the Keras environment lives: $SKFASHION_CACHE, else
    $XDG_CACHE_HOME/skfashion, else ~/.cache/skfashion."""
    if os.environ.get("SKFASHION_CACHE"):
        return Path(os.environ["SKFASHION_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skfashion"


def keras_python():
    """The Python of the Keras environment, created (and TensorFlow
    installed) on first use."""
    env = cache_dir() / "keras-venv"
    python = env / "bin" / "python"
    ready = env / ".installed"
    if not ready.exists() or ready.read_text().strip() != TENSORFLOW:
        print(f"Creating {env} with {TENSORFLOW} (once; about 1.6 GB)...", flush=True)
        venv.create(env, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", TENSORFLOW], check=True
        )
        ready.write_text(TENSORFLOW)
    return python


def _data_file(folder):
    """Fashion-MNIST as one .npz for the Keras script (read by skfashion)."""
    import numpy as np

    from skfashion import fetch_fashion_mnist

    train = fetch_fashion_mnist(subset="train")
    test = fetch_fashion_mnist(subset="test")
    path = Path(folder) / "fashion-mnist.npz"
    np.savez(
        path, X=train.images, y=train.target, X_test=test.images, y_test=test.target
    )
    return path


def summarize(name, runs, time_only=False):
    """The JSON record of one model: every seed, and their mean and spread."""
    first = runs[0]
    if time_only:
        return {
            "model": name,
            "what": "the original report's Keras code: timed, not run to the end",
            "report_test_accuracy": REPORT[name],
            "status": first["status"],
            "seconds_per_step": first["seconds_per_step"],
            "images_per_second": first["images_per_second"],
            "estimated_hours_per_run": first["estimated_hours_per_run"],
            "machine": {k: first[k] for k in ("cpu", "cpu_cores", "gpu", "python")},
            "versions": {k: first[k] for k in ("tensorflow", "keras")},
            "command": f"python -m benchmarks original --models {name} --time-only",
        }
    acc = [r["test_accuracy"] for r in runs]
    return {
        "model": name,
        "what": "the original report's Keras code, run today with its protocol",
        "report_test_accuracy": REPORT[name],
        "test_accuracy_mean": statistics.mean(acc),
        "test_accuracy_std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
        "seeds": [r["seed"] for r in runs],
        "runs": runs,
        "machine": {k: first[k] for k in ("cpu", "cpu_cores", "gpu", "python")},
        "versions": {k: first[k] for k in ("tensorflow", "keras")},
        "command": "python -m benchmarks original --models {} --seeds {}".format(
            name, " ".join(str(r["seed"]) for r in runs)
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks original",
        description="Run the original report's Keras code (in its own venv).",
    )
    parser.add_argument("--models", nargs="+", choices=sorted(REPORT), default=["mlp"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="docs/results/original", help="JSON folder")
    parser.add_argument(
        "--time-only",
        action="store_true",
        help="time 45 training steps and record the hours a run would take "
        "(for the CNN on a CPU, where a run takes hours)",
    )
    args = parser.parse_args(argv)
    python = keras_python()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = _data_file(tmp)
        for name in args.models:
            runs = []
            flags = ["--time-only"] if args.time_only else []
            for seed in args.seeds[:1] if args.time_only else args.seeds:
                record = Path(tmp) / f"{name}-{seed}.json"
                print(f"== original {name}, seed {seed}", flush=True)
                command = [str(python), str(SCRIPT), str(data), name, str(seed)]
                subprocess.run([*command, str(record), *flags], check=True)
                runs.append(json.loads(record.read_text()))
                if not args.time_only:
                    print(f"   test accuracy {runs[-1]['test_accuracy']:.4f}")
            path = out / f"{name}.json"
            summary = summarize(name, runs, time_only=args.time_only)
            path.write_text(json.dumps(summary, indent=2) + "\n")
            print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
