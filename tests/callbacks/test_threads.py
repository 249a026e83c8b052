"""AdaptiveThreads: training makes way for other processes, for every
estimator, and gives PyTorch its thread count back. The load is faked (the
speed it buys is measured by ``python -m benchmarks busy``, not here)."""

import math
import time

import pytest
import torch
from cases import CASE_IDS, CASES, NAMES, data_for, final, make
from skorch.callbacks import Callback

from skfashion.callbacks import _threads


class RecordThreads(Callback):
    def on_train_begin(self, net, **kwargs):
        self.seen_ = []

    def on_batch_end(self, net, **kwargs):
        self.seen_.append(torch.get_num_threads())


class Boom(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("boom")


@pytest.fixture
def two_threads(monkeypatch):
    """Two CPUs for this process and PyTorch at two threads; restored after."""
    before = torch.get_num_threads()
    monkeypatch.setattr(_threads, "_cpus", lambda: frozenset({0, 1}))
    monkeypatch.setattr(_threads, "_recent", (-math.inf, None))  # none yet
    torch.set_num_threads(2)
    yield
    _threads.restore_threads()
    torch.set_num_threads(before)


def fake_load(monkeypatch, others):
    """Other processes keep ``others`` cores busy (and this one none, so that
    the measurement has no noise from reading two clocks)."""

    def busy_seconds(cpus):
        return others * time.monotonic()

    monkeypatch.setattr(_threads, "busy_seconds", busy_seconds)
    monkeypatch.setattr(_threads, "own_seconds", lambda: 0.0)


def _fit(name, pipeline, **params):
    """Fit with the load measured after every batch; the threads it used."""
    X, y = data_for(pipeline)
    record = RecordThreads()
    model = make(name, pipeline, max_epochs=2, callbacks=[("record", record)])
    final(model).set_params(**{"callbacks__threads__interval": 0.0, **params})
    return model.fit(X, y), record


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_busy_core_means_one_thread_and_back(name, pipeline, two_threads, monkeypatch):
    fake_load(monkeypatch, others=1.0)
    _, record = _fit(name, pipeline)
    # a first look before training: the busy core is left alone from the
    # first batch on
    assert set(record.seen_) == {1}
    assert torch.get_num_threads() == 2  # given back when fit ends


def test_next_fit_starts_from_the_last_decision(two_threads, monkeypatch):
    calls = []

    def load(others):
        fake_load(monkeypatch, others)
        fake = _threads.busy_seconds
        monkeypatch.setattr(
            _threads, "busy_seconds", lambda c: calls.append(1) or fake(c)
        )

    load(1.0)
    _fit("mlp", False)
    # the next fit begins with one thread, without a look at the load first
    calls.clear()
    _, record = _fit("mlp", False, callbacks__threads__interval=60.0)
    assert set(record.seen_) == {1} and torch.get_num_threads() == 2
    assert len(calls) == 1  # the sample the first measurement starts from
    # ... unless that decision is older than ``remember``: a look first
    load(0.0)
    calls.clear()
    _, record = _fit(
        "mlp", False, callbacks__threads__interval=60.0, callbacks__threads__remember=0
    )
    assert set(record.seen_) == {2} and len(calls) == 2


@pytest.mark.parametrize("name", NAMES)
def test_quiet_machine_keeps_every_thread(name, two_threads, monkeypatch):
    fake_load(monkeypatch, others=0.1)
    _, record = _fit(name, False)
    assert set(record.seen_) == {2}


@pytest.mark.parametrize("name", NAMES)
def test_callback_can_be_removed(name, two_threads, monkeypatch):
    fake_load(monkeypatch, others=1.0)
    X, y = data_for(False)
    record = RecordThreads()
    model = make(name, callbacks=[("record", record)])
    model.set_params(callbacks__threads=None).fit(X, y)
    assert set(record.seen_) == {2}


def test_never_more_threads_than_torch_had(two_threads, monkeypatch):
    fake_load(monkeypatch, others=0.0)
    torch.set_num_threads(1)  # e.g. a joblib worker
    _, record = _fit("mlp", False)
    assert set(record.seen_) == {1} and torch.get_num_threads() == 1


def test_a_failed_fit_does_not_keep_threads_reduced(two_threads, monkeypatch):
    fake_load(monkeypatch, others=1.0)
    X, y = data_for(False)
    failing = make("mlp", callbacks=[("boom", Boom())])
    failing.set_params(callbacks__threads__interval=0.0)
    with pytest.raises(RuntimeError, match="boom"):
        failing.fit(X, y)  # skorch skips on_train_end when fit raises
    assert torch.get_num_threads() == 1
    fake_load(monkeypatch, others=0.0)
    _, record = _fit("mlp", False)
    assert set(record.seen_) == {2} and torch.get_num_threads() == 2


def test_busy_seconds_reads_the_cpus_asked_for(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  30 0 30 900 0 0 0 0 0 0\n"
        "cpu0 10 1 10 400 5 1 1 2 0 0\n"
        "cpu1 20 0 20 500 7 0 0 0 0 0\n"
        "intr 12345\n"
    )
    hz = _threads.os.sysconf("SC_CLK_TCK")
    # user + nice + system + irq + softirq + steal, not idle or iowait
    assert _threads.busy_seconds({0}, stat) == pytest.approx(25 / hz)
    assert _threads.busy_seconds({0, 1}, stat) == pytest.approx(65 / hz)
    assert _threads.busy_seconds({0}, tmp_path / "absent") is None
