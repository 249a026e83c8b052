"""ReuseFreedMemory: training keeps its freed memory for the next step, for
every estimator, and leaves glibc as it found it. glibc is faked where the
calls are what is checked; the page faults it saves are counted for real on
glibc (the time they cost is measured by ``python -m benchmarks profile``)."""

import os
import resource
import subprocess
import sys

import pytest
import torch
from cases import CASE_IDS, CASES, NAMES, data_for, final, make
from skorch.callbacks import Callback

from skfashion.callbacks import ReuseFreedMemory, _memory


class FakeGlibc:
    """Records the calls; ``mallopt`` succeeds unless told to refuse."""

    def __init__(self, refuse=False):
        self.calls = []
        self.refuse = refuse

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))
        return 0 if self.refuse else 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


class Boom(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("boom")


class RecordRaised(Callback):
    def on_batch_end(self, net, **kwargs):
        self.seen_ = _memory._raised


@pytest.fixture
def fake_glibc(monkeypatch):
    libc = FakeGlibc()
    monkeypatch.setattr(_memory, "glibc", lambda: libc)
    monkeypatch.setattr(_memory, "_raised", False)
    for name in _memory.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return libc


RAISED = [
    ("mallopt", _memory.M_MMAP_THRESHOLD, 256 * 2**20),
    ("mallopt", _memory.M_TRIM_THRESHOLD, 2**30),
]
RESTORED = [
    ("mallopt", _memory.M_TRIM_THRESHOLD, 128 * 1024),
    ("malloc_trim", 0),
]


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_thresholds_raised_for_the_fit_then_restored(name, pipeline, fake_glibc):
    X, y = data_for(pipeline)
    record = RecordRaised()
    model = make(name, pipeline, callbacks=[("record", record)])
    model.fit(X, y)
    assert record.seen_ is True  # in force while training
    assert fake_glibc.calls == RAISED + RESTORED
    assert _memory._raised is False


FRESH_PROCESS = """
import resource, torch
n = 96 * 2**20 // 4
def once():
    a = torch.empty(n)
    a.fill_(1.0)
    del a
once()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    once()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(_memory.glibc() is None, reason="the C library is not glibc")
def test_without_it_each_block_is_faulted_in_again():
    # the counterpart of the test above, in a process whose malloc nobody
    # has tuned: glibc maps blocks over 32 MiB afresh every time
    env = {k: v for k, v in os.environ.items() if k not in _memory.ENVIRONMENT}
    out = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    pages = 96 * 2**20 // resource.getpagesize()
    assert int(out.stdout) > 0.9 * 4 * pages


@pytest.mark.parametrize("name", NAMES)
def test_callback_can_be_removed(name, fake_glibc):
    X, y = data_for(False)
    make(name).set_params(callbacks__malloc=None).fit(X, y)
    assert fake_glibc.calls == []


@pytest.mark.parametrize("variable", _memory.ENVIRONMENT)
def test_glibc_variables_set_by_someone_win(variable, fake_glibc, monkeypatch):
    monkeypatch.setenv(variable, "65536")
    X, y = data_for(False)
    make("mlp").fit(X, y)
    assert fake_glibc.calls == []


def test_nothing_without_glibc(monkeypatch):
    monkeypatch.setattr(_memory, "glibc", lambda: None)
    monkeypatch.setattr(_memory, "_raised", False)
    X, y = data_for(False)
    record = RecordRaised()
    make("mlp", callbacks=[("record", record)]).fit(X, y)
    assert record.seen_ is False


def test_a_failed_fit_is_restored_by_the_next(fake_glibc):
    X, y = data_for(False)
    with pytest.raises(RuntimeError, match="boom"):
        make("mlp", callbacks=[("boom", Boom())]).fit(X, y)
    assert _memory._raised is True  # skorch skips on_train_end when fit raises
    fake_glibc.calls.clear()
    make("mlp").fit(X, y)
    assert fake_glibc.calls == RESTORED + RAISED + RESTORED


@pytest.mark.parametrize(
    "params, message",
    [
        ({"mmap_threshold": 0}, "mmap_threshold must be a positive number of bytes"),
        ({"trim_threshold": -1}, "trim_threshold must be a positive number"),
        ({"trim_threshold": 1.5}, "trim_threshold must be a positive number"),
    ],
)
def test_bad_thresholds_named(params, message, fake_glibc):
    X, y = data_for(False)
    model = make("mlp", callbacks__malloc=ReuseFreedMemory(**params))
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert fake_glibc.calls == []


def test_refused_threshold_named(monkeypatch):
    libc = FakeGlibc(refuse=True)
    monkeypatch.setattr(_memory, "glibc", lambda: libc)
    monkeypatch.setattr(_memory, "_raised", False)
    for name in _memory.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    X, y = data_for(False)
    with pytest.raises(ValueError, match="refused ReuseFreedMemory's mmap_threshold"):
        make("mlp").fit(X, y)


def test_same_weights_with_and_without():
    X, y = data_for(False)
    with_it = final(make("fast", random_state=0).fit(X, y))
    without = final(
        make("fast", random_state=0).set_params(callbacks__malloc=None).fit(X, y)
    )
    for a, b in zip(
        with_it.module_.state_dict().values(),
        without.module_.state_dict().values(),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def _faults_reallocating(n_bytes, times=8):
    """Minor page faults of each of ``times`` rounds of allocating, touching
    and freeing ``n_bytes``, after one warm-up round."""
    n = n_bytes // 4
    faults = []
    for _ in range(times + 1):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a = torch.empty(n)
        a.fill_(1.0)
        del a
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return faults[1:]


@pytest.mark.skipif(_memory.glibc() is None, reason="the C library is not glibc")
def test_freed_activations_are_reused_without_page_faults(monkeypatch):
    for name in _memory.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_memory, "_raised", False)
    n_bytes = 96 * 2**20  # FastFashionCNN's first activations at batch 512
    pages = n_bytes // resource.getpagesize()
    callback = ReuseFreedMemory()
    callback.on_train_begin(net=None)
    try:
        # while a fit runs the block stays in the heap: once the heap has
        # room for it (a round or two, as the interpreter's own small blocks
        # settle around it), it is reused and nothing faults in again; without
        # the callback every round faults in all its pages (the next test)
        faults = _faults_reallocating(n_bytes)
        reused = [f < 0.05 * pages for f in faults]
        assert sum(reused) >= len(faults) // 2, faults
        assert all(reused[-3:]), faults
    finally:
        callback.on_train_end(net=None)
    assert _memory._raised is False
