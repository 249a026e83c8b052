"""Run ``skfashion serve`` in a process of its own: for the serve benchmark
and the tests that talk to it over real sockets."""

import contextlib
import queue
import subprocess
import sys
import threading

STARTUP_S = 180  # a busy 2-core machine imports PyTorch slowly


def rss_mb(pid):
    """The resident memory of a process, in MiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@contextlib.contextmanager
def serving(model, *args):
    """Start ``skfashion serve --model MODEL --port 0 ARGS``; yield (the
    process, its URL, the lines it printed so far). Stopped afterwards."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skfashion.cli",
            "serve",
            "--model",
            str(model),
            "--port",
            "0",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = queue.Queue()
    printed = []

    def read():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=STARTUP_S)
            if line is None:
                raise AssertionError("serve exited:\n" + "".join(printed))
            printed.append(line)
            if "listening on http://" in line:
                url = line.split("listening on ")[1].split()[0]
                break
        yield proc, url, printed
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        while True:  # what it printed after startup
            try:
                line = lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            printed.append(line)
