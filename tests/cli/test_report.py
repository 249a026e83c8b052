"""``skfashion report``: the command around ``run_report`` -- its options,
its messages and exit codes, the checkpoints beside ``--out`` and
``--resume``, one end-to-end run as a process, and the signals.

The protocol itself is tested through the library in
tests/experiments/test_run_report.py and
test_report_resume.py.
"""

import json
import signal
import subprocess
import sys
import time

import pytest
from report_runs import lighten

from skfashion.cli import main
from skfashion.evaluation import HELD_OUT_SPLITS
from skfashion.experiments import (
    Report,
    ReportCallback,
    ReportConfig,
    ReportInterrupted,
    run_report,
)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", "mlp,rnn"], "Unknown model(s) 'rnn'"),
        (["--models", ","], "Unknown model"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--seeds", "0"], "--seeds of mlp must be at least 1"),
        (["--seeds", "mlp=2,gan=1"], "'gan', which is not in --models"),
        (["--seeds", "three"], "--seeds must be a number or model=number"),
        (["--precision", "float16"], "invalid choice"),
        (["--epochs", "ten"], "invalid int value"),
        (["--device", "tpu"], "--device must be"),
        (["--held-out", "6,x"], "--held-out must be 'all' or comma-separated"),
        (["--held-out", "10"], "--held-out's split (10,) must name classes 0 to 9"),
        (["--held-out", "1,1"], "distinct classes"),
        (["--held-out", "all", "--held-out", "6,5"], "give it alone"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        code = main(["report", "--quick", "--out", str(out), *argv])
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    "argv, held_out",
    [
        ([], ()),
        (["--held-out", "6,5", "--held-out", "0, 9"], ((6, 5), (0, 9))),
        (["--held-out", "all"], HELD_OUT_SPLITS),
    ],
)
def test_held_out_option_names_the_splits(argv, held_out, tmp_path, monkeypatch):
    """--held-out becomes the config's splits (seen in the settings the
    command keys its checkpoints by)."""
    from skfashion import experiments

    class Seen(Exception):
        pass

    def checkpoints(folder, settings):
        raise Seen(settings)

    monkeypatch.setattr(experiments, "ReportCheckpoints", checkpoints)
    with pytest.raises(Seen) as info:
        main(["report", "--quick", "--out", str(tmp_path / "out"), *argv])
    (settings,) = info.value.args
    assert settings.get("held_out", []) == [list(split) for split in held_out]


def test_onnx_without_its_extra_names_the_extra(tmp_path, capsys, monkeypatch):
    from skfashion.experiments import _report_config

    monkeypatch.setattr(_report_config, "ONNX_EXTRA", ("no_such_package_here",))
    argv = ["report", "--quick", "--onnx", "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert 'error: --onnx needs the onnx extra: pip install "skfashion[onnx]"' in err
    assert not (tmp_path / "out").exists()


def test_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", "--quick", "--out", str(blocker / "report")]) == 2
    assert "is not writable" in capsys.readouterr().err
    assert main(["report", "--quick", "--out", str(blocker)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_report_as_subprocess(fashion_train, tmp_path):
    """The command end to end: the estimate first, a line per model, the
    report written; a bad option is one line and exit code 2."""
    out = tmp_path / "r"
    argv = ["report", "--quick", "--models", "mlp", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "skfashion.cli", *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Expected duration: about ") and "mlp" in lines[0]
    assert "mlp: test accuracy" in done.stdout + done.stderr
    assert lines[-1].startswith(f"Report written to {out}/report.md in ")
    assert (out / "metrics.json").exists() and not (out / "cnn").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no checkpoints
    bad = subprocess.run(
        [sys.executable, "-m", "skfashion.cli", "report", "--models", "gan"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


class _StopInSecondEpoch(ReportCallback):
    def __init__(self):
        self.batches, self.seen = None, 0

    def on_run_begin(self, plan):
        self.batches = plan.jobs[0].epoch_batches + 2

    def on_batch_end(self, job):
        self.seen += 1

    def __call__(self):
        return self.batches is not None and self.seen >= self.batches


def test_python_run_resumes_from_the_command(
    fashion_train, tmp_path, capsys, monkeypatch
):
    """A run interrupted in Python with the command's checkpoint folder:
    the command refuses to start over without --resume, says what it
    reuses with it, and trains only the rest; another run into the same
    folder never touches those checkpoints."""
    lighten(monkeypatch)
    out = tmp_path / "report"
    argv = ["report", "--quick", "--models", "mlp", "--epochs", "3", "--out", str(out)]
    stop = _StopInSecondEpoch()
    with pytest.raises(ReportInterrupted):
        run_report(
            ReportConfig(models="mlp", epochs=3, quick=True),
            checkpoints=tmp_path / "report.checkpoints",
            callbacks=[stop],
            should_stop=stop,
        )
    checkpoints = tmp_path / "report.checkpoints"
    assert len(list(checkpoints.glob("*/*/*.pt"))) == 1
    assert main(argv) == 2  # not without --resume
    assert "--resume" in capsys.readouterr().err
    assert main(["report", "--quick", "--models", "mlp", "--out", str(out)]) == 0
    assert len(list(checkpoints.glob("*/*/*.pt"))) == 1  # another run's
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    said = capsys.readouterr().out
    assert "reusing the checkpoints of mlp seed 0 (1 of 3 epochs)" in said
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["mlp"]["runs"][0]["epochs"] == 3
    assert not checkpoints.exists()


def test_resume_without_checkpoints_says_so(
    fashion_train, tmp_path, capsys, monkeypatch
):
    lighten(monkeypatch)
    out = tmp_path / "report"
    argv = ["report", "--quick", "--models", "mlp", "--out", str(out), "--resume"]
    assert main(argv) == 0
    assert "Nothing to resume" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_interrupted_run_keeps_the_finished_models(
    fashion_train, tmp_path, interrupt_fits, capsys, monkeypatch
):
    lighten(monkeypatch)
    interrupt_fits("fast")
    out = tmp_path / "report"
    assert main(["report", "--quick", "--models", "mlp,fast", "--out", str(out)]) == 130
    assert not out.exists()
    partial = tmp_path / "report.partial"
    assert (partial / "INCOMPLETE").exists()
    assert (partial / "mlp" / "model.pkl").exists()
    assert not (partial / "report.md").exists()
    err = capsys.readouterr().err
    assert "interrupted" in err and "--resume" in err  # the finished mlp is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.checkpoints",
        "report.partial",
    ]


def test_full_disk_is_one_line_error(fashion_train, tmp_path, monkeypatch, capsys):
    real_write = Report.write

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    lighten(monkeypatch)
    monkeypatch.setattr(Report, "write", full)
    out = tmp_path / "report"
    argv = ["report", "--quick", "--models", "mlp", "--out", str(out)]
    assert main(argv) == 1
    (error,) = [
        line for line in capsys.readouterr().err.splitlines() if "error" in line
    ]
    assert "No space left on device" in error and "--resume" in error
    # no half-written report; the trained fit is kept for --resume
    assert [p.name for p in tmp_path.iterdir()] == ["report.checkpoints"]
    monkeypatch.setattr(Report, "write", real_write)
    assert main([*argv, "--resume"]) == 0
    assert (out / "report.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize(
    "signame, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)]
)
def test_signals_stop_like_ctrl_c(fashion_train, tmp_path, signame, code):
    """kill, timeout, a container stop or a closed terminal: the run stops
    at the next batch, keeps its checkpoints and says how to resume."""
    out = tmp_path / "report"
    argv = ["report", "--quick", "--models", "mlp", "--epochs", "1000"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "skfashion.cli", *argv, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        checkpoints = tmp_path / "report.checkpoints"
        while not list(checkpoints.glob("*/*/*.pt")):  # an epoch is saved
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(getattr(signal, signame))
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "interrupted" in err and "--resume" in err, err
    assert (signame in err) == (signame != "SIGINT")
    assert list(checkpoints.glob("*/*/*.pt")) and not out.exists()
