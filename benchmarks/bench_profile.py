"""FastFashionCNN's training epoch, profiled: where its time goes, before
and after this release's changes, and the epoch time of each kind of CPU.

Two parts, each run in fresh processes so that every configuration starts
with glibc and PyTorch as a user's process would:

- ``profile``: ``torch.profiler`` over 16 training steps (batch 512, after 6
  warm-up steps) of ``FastFashionCNN(max_epochs=1)`` fitted through the
  estimator -- skorch, the callbacks and the loader included. Every operator's
  own time goes to the category of its nearest enclosing operator that has
  one (so the zero-filling inside the max-pool's backward counts as
  max-pooling); the augmentation, the loader and Lookahead are marked with
  ``record_function``; what the profiler does not see (Python in skorch and
  the callbacks) is the wall time less the rest. Shown per epoch of 60,000
  images (118 steps).
- ``epochs``: the wall time of one full training epoch (all 60,000 images,
  ``validation_split=None``) of each configuration, interleaved, ``rounds``
  times; the ratios are of medians measured in the same run.

The configurations (``CONFIGS``): ``before`` is ``FastFashionCNN()`` as the
previous release trained it on this CPU (bfloat16 wherever the CPU flags
show AVX512-BF16 or AMX, glibc's malloc untouched); ``after`` is today's
``FastFashionCNN()`` and ``after, malloc untouched`` the same without its
``malloc`` callback (so each change has its row); ``avx2`` is today's
default in float32 with PyTorch's and oneDNN's kernels held to AVX2
(``ATEN_CPU_CAPABILITY=avx2``, ``ONEDNN_MAX_CPU_ISA=AVX2``): the code path
of the AVX2-only CPUs, measured on this one.

``python -m benchmarks [--full] profile`` writes ``profile.json`` and
``profile.rst`` (the docs' table); ``--quick`` profiles 4 steps and times
one epoch of 6,000 images, one round.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from skfashion.utils import atomic_write, cpu_detail

from ._common import machine, previous_fast_params

OWN_JSON = True

#: name -> (estimator parameters, environment)
CONFIGS = {
    "before": ("previous", {}),
    "after, malloc untouched": ({"callbacks__malloc": None}, {}),
    "after": ({}, {}),
    "avx2": (
        {"precision": "float32"},
        {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    ),
}

#: category -> operator names (or record_function labels) that start it
CATEGORIES = {
    "convolution forward": ("aten::convolution",),
    "convolution backward": ("aten::convolution_backward",),
    "BatchNorm": ("aten::native_batch_norm", "aten::native_batch_norm_backward"),
    "GELU": ("aten::gelu", "aten::gelu_backward"),
    "max-pooling": (
        "aten::max_pool2d_with_indices",
        "aten::max_pool2d_with_indices_backward",
        "aten::adaptive_max_pool2d",
        "aten::adaptive_max_pool2d_backward",
    ),
    "augmentation": ("augmentation",),
    "loader": ("loader",),
    "optimizer (SGD)": ("Optimizer.step#SGD.step", "Optimizer.zero_grad#SGD.zero_grad"),
    "Lookahead": ("lookahead",),
}
OTHER_OPS = "other operators (loss, linear layer, casts, copies)"
UNSEEN = "Python (skorch, callbacks) and the rest"
STEPS_PER_EPOCH = 118  # 60,000 images in batches of 512


def _params(config):
    params = CONFIGS[config][0]
    return previous_fast_params() if params == "previous" else dict(params)


# ------------------------------------------------------- in the child process
def _category(event):
    while event is not None:
        for category, names in CATEGORIES.items():
            if event.name in names:
                return category
        event = event.cpu_parent
    return OTHER_OPS


def _instrument():
    """Mark the augmentation, the loader's batches and Lookahead's pulls."""
    import torch

    from skfashion.callbacks import Lookahead
    from skfashion.modules import _fast
    from skfashion.utils import ArrayLoader

    augment = _fast.augment_batch

    def augment_batch(*args, **kwargs):
        with torch.profiler.record_function("augmentation"):
            return augment(*args, **kwargs)

    _fast.augment_batch = augment_batch
    iterate = ArrayLoader.__iter__

    def __iter__(self):
        batches = iterate(self)
        while True:
            with torch.profiler.record_function("loader"):
                batch = next(batches, None)
            if batch is None:
                return
            yield batch

    ArrayLoader.__iter__ = __iter__
    pull = Lookahead.on_batch_end

    def on_batch_end(self, net, **kwargs):
        with torch.profiler.record_function("lookahead"):
            return pull(self, net, **kwargs)

    Lookahead.on_batch_end = on_batch_end


def _data(n_images):
    from skfashion import PixelScaler, fetch_fashion_mnist

    X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
    return PixelScaler().fit_transform(X[:n_images]), y[:n_images]


def child_profile(config, steps):
    """Profile ``steps`` training steps after 6 warm-up steps; seconds per
    step by category."""
    import torch
    from skorch.callbacks import Callback

    from skfashion import FastFashionCNN

    _instrument()
    warmup = 6
    X, y = _data(512 * (warmup + steps))

    class Step(Callback):
        def on_train_begin(self, net, **kwargs):
            self.n_, self.start_ = 0, None

        def on_batch_end(self, net, training=False, **kwargs):
            if not training:
                return
            self.n_ += 1
            if self.n_ == warmup:
                self.start_ = time.perf_counter()
                profiler.start()
            elif self.n_ == warmup + steps:
                profiler.stop()
                self.wall_ = time.perf_counter() - self.start_

    profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
    step = Step()
    clf = FastFashionCNN(
        max_epochs=1,
        validation_split=None,
        random_state=0,
        callbacks=[("step", step)],
        **_params(config),
    )
    clf.fit(X, y)
    seconds = dict.fromkeys([*CATEGORIES, OTHER_OPS], 0.0)
    for event in profiler.events():
        seconds[_category(event)] += event.self_cpu_time_total / 1e6
    seconds[UNSEEN] = max(0.0, step.wall_ - sum(seconds.values()))
    return {
        "precision": clf.precision_,
        "step_s": step.wall_ / steps,
        "categories": {k: v / steps for k, v in seconds.items()},
    }


def child_epoch(config, n_images):
    """One epoch's training time on ``n_images`` images, in seconds."""
    from skfashion import FastFashionCNN

    X, y = _data(n_images)
    clf = FastFashionCNN(
        max_epochs=1, validation_split=None, random_state=0, **_params(config)
    )
    start = time.perf_counter()
    clf.fit(X, y)
    return {"precision": clf.precision_, "epoch_s": time.perf_counter() - start}


# ------------------------------------------------------ in the parent process
def _run_child(config, what, size):
    env = {**os.environ, **CONFIGS[config][1]}
    code = (
        "import json, sys; from benchmarks import bench_profile as b; "
        f"print(json.dumps(b.child_{what}({config!r}, {size})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick=True, out="benchmarks/results", parts=("profile", "epochs")):
    steps, n_images, rounds = (4, 6000, 1) if quick else (16, 60000, 2)
    record = {
        "machine": machine(),
        "cpu_detail": cpu_detail(),
        "quick": quick,
        "configs": {name: _params(name) for name in CONFIGS},
        "environments": {name: CONFIGS[name][1] for name in CONFIGS},
    }
    path = Path(out) / "profile.json"
    if path.is_file():  # keep the other part of an earlier run on this CPU
        old = json.loads(path.read_text())
        if old.get("cpu_detail") == record["cpu_detail"] and old["quick"] == quick:
            record = {**old, **record}
    if "profile" in parts:
        record["profile"] = {}
        for config in ("before", "after"):
            print(f"  profiling {config} ...", flush=True)
            record["profile"][config] = _run_child(config, "profile", steps)
    if "epochs" in parts:
        times = {name: [] for name in CONFIGS}
        precision = {}
        for r in range(rounds):
            for config in CONFIGS:
                result = _run_child(config, "epoch", n_images)
                times[config].append(result["epoch_s"])
                precision[config] = result["precision"]
                print(
                    f"  round {r + 1}: {config} {result['epoch_s']:.1f} s", flush=True
                )
        record["epochs"] = {
            "n_images": n_images,
            "rounds": rounds,
            "seconds": times,
            "precision": precision,
            "median_s": {k: statistics.median(v) for k, v in times.items()},
        }
    Path(out).mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    with atomic_write(Path(out) / "profile.rst") as tmp:
        tmp.write_text(rst(record))
    return rows(record)


def rows(record):
    """One row per category: ms per epoch before and after."""
    out = []
    profile = record.get("profile", {})
    if profile:
        before, after = profile["before"], profile["after"]
        for category in before["categories"]:
            b = before["categories"][category] * STEPS_PER_EPOCH
            a = after["categories"][category] * STEPS_PER_EPOCH
            out.append(
                {"category": category, "before_s": round(b, 1), "after_s": round(a, 1)}
            )
    epochs = record.get("epochs")
    if epochs:
        for config, seconds in epochs["median_s"].items():
            out.append({"category": f"epoch ({config})", "after_s": round(seconds, 1)})
    return out


def _grid(header, rows):
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines)


def rst(record):
    """The docs' tables: the profile per epoch, and the epoch times."""
    cores = record["machine"].get("cpu_cores")
    parts = [
        f"Measured on: {record['cpu_detail']} ({cores} cores, "
        f"torch {record['machine']['torch']}).",
        "",
    ]
    profile = record.get("profile")
    if profile:
        before, after = profile["before"], profile["after"]
        total_b = before["step_s"] * STEPS_PER_EPOCH
        total_a = after["step_s"] * STEPS_PER_EPOCH
        table = []
        for category in before["categories"]:
            b = before["categories"][category] * STEPS_PER_EPOCH
            a = after["categories"][category] * STEPS_PER_EPOCH
            table.append(
                [category, f"{b:.1f}", f"{100 * b / total_b:.0f} %", f"{a:.1f}"]
            )
        total = ["**one epoch**", f"**{total_b:.1f}**", "100 %", f"**{total_a:.1f}**"]
        table.append(total)
        parts += [
            f"**Where an epoch goes** (seconds per epoch of 60,000 images; before: "
            f"{before['precision']}, glibc's malloc untouched; after: "
            f"{after['precision']}, freed memory reused)",
            "",
            _grid(["what", "before (s)", "share", "after (s)"], table),
            "",
        ]
    epochs = record.get("epochs")
    if epochs:
        median = epochs["median_s"]
        base = median["before"]
        table = [
            [
                config,
                epochs["precision"][config],
                f"{median[config]:.1f}",
                f"{median[config] / base:.2f}",
            ]
            for config in median
        ]
        parts += [
            f"**One training epoch** ({epochs['n_images']:,} images, median of "
            f"{epochs['rounds']} interleaved rounds)",
            "",
            _grid(["configuration", "precision", "seconds", "÷ before"], table),
            "",
        ]
    return "\n".join(parts)
