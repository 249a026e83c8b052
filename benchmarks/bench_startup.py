"""Start-up: seconds until the command line answers, and to import skfashion.

Each command runs in a fresh interpreter (the median of several runs):
``skfashion --help`` and ``skfashion data`` (which reads and verifies the
four data files), ``import skfashion``, ``import torch`` and what a user's
first line imports, ``from skfashion import FashionMLP``.
Goals (issue #16): ``--help`` and ``data`` under 1 s; ``import skfashion``
no slower than ``import torch`` plus 0.5 s.
"""

import statistics
import subprocess
import sys
import time

COMMANDS = {
    "skfashion --help": [sys.executable, "-m", "skfashion.cli", "--help"],
    "skfashion data": [sys.executable, "-m", "skfashion.cli", "data"],
    "import skfashion": [sys.executable, "-c", "import skfashion"],
    "import torch": [sys.executable, "-c", "import torch"],
    "from skfashion import FashionMLP": [
        sys.executable,
        "-c",
        "from skfashion import FashionMLP",
    ],
}


def _seconds(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def run(quick=True):
    repeats = 3 if quick else 7
    for argv in COMMANDS.values():
        _seconds(argv)  # warm the file cache
    times = {name: [] for name in COMMANDS}
    for _ in range(repeats):  # interleaved: the machine's drift hits all alike
        for name, argv in COMMANDS.items():
            times[name].append(_seconds(argv))
    return [
        {"command": name, "seconds": round(statistics.median(t), 3)}
        for name, t in times.items()
    ]
