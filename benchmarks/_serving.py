"""Run ``skfashion serve`` in a process of its own: for the serve benchmark
and the tests that talk to it over real sockets."""

import contextlib
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request

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
        _stop(proc)
        while True:  # what it printed after startup
            try:
                line = lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            printed.append(line)


def _stop(proc):
    """SIGTERM, then SIGKILL after 60 s; wait for the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_ports(n):
    """``n`` distinct loopback ports free now (for servers that need a
    number, not port 0)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@contextlib.contextmanager
def serving_kserve(model, *args):
    """Start ``skfashion serve --engine kserve`` on free ports; yield (the
    process, its REST URL). Stopped (SIGTERM) afterwards."""
    http_port, grpc_port = free_ports(2)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skfashion.cli",
            "serve",
            "--engine",
            "kserve",
            "--model",
            str(model),
            "--port",
            str(http_port),
            "--grpc-port",
            str(grpc_port),
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"serve --engine kserve exited ({proc.returncode})"
                )
            try:
                with urllib.request.urlopen(url + "/v2/health/ready", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield proc, url
    finally:
        _stop(proc)
