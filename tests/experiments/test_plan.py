"""The report's plan and its estimates, on numbers worked out by hand
(an injected clock: nothing waits)."""

import pytest

from skfashion.evaluation import shift_prediction_count
from skfashion.experiments import Job, ReportPlan, format_duration, parse_duration


def test_durations():
    assert format_duration(42) == "42 s"
    assert format_duration(600) == "10 min"
    assert format_duration(2 * 3600 + 5 * 60) == "2 h 05 min"


def test_plan_follows_measured_speed():

    def job(name):
        return Job(name, 0, 2, 10, 1, 100, 100, 0.1, 0.2, 0.001)

    now = [0.0]
    clock = ReportPlan([job("mlp"), job("mlp"), job("cnn")], timer=lambda: now[0])
    assert clock.total_batches == 3 * 2 * 11
    estimate = job("mlp").estimate  # 0.2 + 2 * (10 * 0.1 + 100 * 0.001) + 0.1
    assert estimate == pytest.approx(2.5)
    clock.start(0)
    for _ in range(11):  # half of the first job, at twice the estimate
        now[0] += 2 * estimate / 22
        clock.tick()
    assert clock.speed["mlp"] == pytest.approx(2.0)
    # the rest of this job and the next mlp job at 2x, the cnn job as timed
    assert clock.remaining() == pytest.approx(
        2 * estimate / 2 + 2 * estimate + estimate
    )


def test_estimate_counts_the_images_measured_under_shift():
    plain = Job("mlp", 0, 2, 10, 1, 100, 100, 0.1, 0.2, 0.001)
    n = shift_prediction_count(100, 100, n_per_severity=20, n_in=300, n_out=100)
    # 75 sets of 20, the mixed set and its temperature, one pass of each of
    # the detectors' sets (the four detectors share it)
    assert n == 75 * 20 + 100 + 100 + (100 + 100 + 5 * 100)
    first = Job("mlp", 0, 2, 10, 1, 100, 100, 0.1, 0.2, 0.001, shift_images=n)
    assert first.estimate == pytest.approx(plain.estimate + n * 0.001)


def test_parse_duration():
    assert parse_duration("15m") == 900
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90s") == 90
    assert parse_duration("1.5h") == 5400
    for bad in ("15 minutes please", "15", "0s"):
        with pytest.raises(ValueError, match="budget"):
            parse_duration(bad)


def test_time_batches_on_data_sorted_by_class(blobs):
    """The timing fits draw their rows from all the data: sorted by class,
    a classifier that needs two classes still gets them (the first rows
    alone are all one class)."""
    from cases import make

    from skfashion.experiments import time_batches

    X, y = blobs
    assert len(set(y[:16])) == 1  # sorted: the first two batches, one class
    per_batch, setup, per_sample = time_batches(
        lambda: make("fast", pipeline=True, max_epochs=1), X, y
    )
    assert per_batch > 0 and setup >= 0 and per_sample > 0
