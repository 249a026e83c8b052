import json
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

from skfashion import CLASS_NAMES, load_model
from skfashion.cli import main
from skfashion.cli import report as report_cli
from skfashion.cli.report import _config, _experiment, _outputs, _progress
from skfashion.neural_network import CLASSIFIERS
from skfashion.utils import move_into_place

FILES = [
    "history.csv",
    "curves.png",
    "confusion_matrix.csv",
    "confusion_matrix.png",
    "mistakes.png",
    "reliability.png",
    "classification_report.txt",
    "classification_report.json",
    "model.pkl",
    "model.safetensors",
    "model.onnx",
    "model-int8.onnx",
    "shift.csv",
    "shift.png",
    "novelty.png",
]
MODELS = ["mlp", "cnn", "fast"]
# smaller CNNs for tests that only count batches
SMALL = {
    "cnn": {"filters": (4, 8, 8), "dense_units": (8, 8)},
    "fast": {"widths": (4, 8, 8)},
}
SEEDS = 3


@pytest.fixture(scope="module")
def quick_report(fashion_train, tmp_path_factory):
    """The run the issue asks for: all three models, three seeds, quick."""
    out = tmp_path_factory.mktemp("r") / "report"
    argv = ["report", "--quick", "--models", ",".join(MODELS), "--seeds", str(SEEDS)]
    argv += ["--onnx", "int8"]
    done = subprocess.run(
        [sys.executable, "-m", "skfashion.cli", *argv, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_quick_report_writes_every_file(quick_report, fashion_train, fashion_test):
    out, _ = quick_report
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*MODELS, "metrics.json", "recall.png", "report.md"]
    )
    metrics = json.loads((out / "metrics.json").read_text())
    n_test = report_cli.QUICK["n_test"]
    for name in MODELS:
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(FILES)
        m = metrics[name]
        assert 0 <= m["test_accuracy"] <= 1 and 0 <= m["valid_accuracy"] <= 1
        assert m["train_seconds"] > 0 and m["seeds"] == SEEDS
        assert [r["random_state"] for r in m["runs"]] == [0, 1, 2]
        assert metrics["protocol"]["random_states"][name] == [0, 1, 2]
        cm = pd.read_csv(out / name / "confusion_matrix.csv", index_col=0)
        assert list(cm.columns) == list(CLASS_NAMES)
        assert cm.to_numpy().sum() == n_test
        first = m["runs"][0]["test_accuracy"]
        assert np.trace(cm.to_numpy()) / n_test == pytest.approx(first)
        # --onnx: the same model as ONNX (float32; the run trained in
        # bfloat16 where the CPU has it, so a close call may differ)
        import onnxruntime as ort

        session = ort.InferenceSession(str(out / name / "model.onnx"))
        X_test = fashion_test.data[:n_test]
        label = session.run(["label"], {"input": X_test})[0]
        saved = load_model(out / name / "model.safetensors")
        assert np.mean(label == saved.predict(X_test)) >= 0.98
        # --onnx int8: the quantized graph beside it, nearly the same labels
        int8 = ort.InferenceSession(str(out / name / "model-int8.onnx"))
        meta = int8.get_modelmeta().custom_metadata_map
        assert (meta["precision"], meta["calibration_images"]) == ("int8", "500")
        int8_label = int8.run(["label"], {"input": X_test})[0]
        assert np.mean(int8_label == label) >= 0.9
        history = pd.read_csv(out / name / "history.csv")
        assert list(history.columns) == [
            "random_state",
            "epoch",
            "train_loss",
            "train_acc",
            "valid_loss",
            "valid_acc",
            "dur",
        ]
        assert len(history) == SEEDS  # one epoch per seed in quick mode
        report = json.loads((out / name / "classification_report.json").read_text())
        assert report["accuracy"] == pytest.approx(first)
        model = joblib.load(out / name / "model.pkl")
        pred = model.predict(fashion_test.data[:n_test])
        assert np.mean(pred == fashion_test.target[:n_test]) == pytest.approx(first)
        for png in ("curves.png", "confusion_matrix.png", "mistakes.png"):
            assert (out / name / png).read_bytes()[:4] == b"\x89PNG"
        # calibration: the first seed's ECE is the saved model's, and
        # temperature scaling fitted on the validation images is recorded
        from skfashion import expected_calibration_error

        proba = model.predict_proba(fashion_test.data[:n_test])
        ece = expected_calibration_error(fashion_test.target[:n_test], proba)
        assert m["runs"][0]["ece"] == pytest.approx(ece, abs=1e-6)
        assert m["ece"] == pytest.approx(np.mean([r["ece"] for r in m["runs"]]))
        # the saved model, temperature-scaled on the quick run's validation
        # images (its first ones), gives the recorded numbers
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator

        n_valid = report_cli.QUICK["n_valid"]
        scaled = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
        scaled.fit(fashion_train.data[:n_valid], fashion_train.target[:n_valid])
        beta = scaled.calibrated_classifiers_[0].calibrators[0].beta_
        assert m["runs"][0]["temperature"] == pytest.approx(1 / beta, abs=1e-4)
        scaled_proba = scaled.predict_proba(fashion_test.data[:n_test])
        assert m["runs"][0]["ece_temperature"] == pytest.approx(
            expected_calibration_error(fashion_test.target[:n_test], scaled_proba),
            abs=1e-6,
        )
        assert all(r["temperature"] > 0 for r in m["runs"])
        for png in ("reliability.png",):
            assert (out / name / png).read_bytes()[:4] == b"\x89PNG"
        assert set(m["recall"]) == set(CLASS_NAMES)
    env = metrics["environment"]
    assert env["device"] in ("cpu", "cuda") and env["precision"] in (
        "float32",
        "bfloat16",
    )
    assert metrics["protocol"]["n_valid"] == report_cli.QUICK["n_valid"]
    assert metrics["protocol"]["epochs"] == dict.fromkeys(MODELS, 1)
    assert metrics["time"]["estimated_seconds"] > 0
    md = (out / "report.md").read_text()
    assert "89.13 %" in md and "91.93 %" in md
    assert "mlp/curves.png" in md and "cnn/confusion_matrix.png" in md
    assert "fast/mistakes.png" in md and "recall.png" in md
    assert "fast/reliability.png" in md and "ECE after temperature scaling" in md
    assert "980, 1135, 1032" in md
    assert "Quick mode" in md and "1 epoch;" in md and "1 epochs" not in md


def test_report_statistics(quick_report):
    from scipy import stats

    out, _ = quick_report
    metrics = json.loads((out / "metrics.json").read_text())
    for name in MODELS:
        m = metrics[name]
        acc = [r["test_accuracy"] for r in m["runs"]]
        assert m["test_accuracy"] == pytest.approx(np.mean(acc))
        assert m["test_accuracy_std"] == pytest.approx(np.std(acc, ddof=1))
        low, high = stats.t.interval(
            0.95, len(acc) - 1, loc=np.mean(acc), scale=stats.sem(acc)
        )
        assert m["test_accuracy_ci95"] == pytest.approx([low, high])
    pairs = [(c["a"], c["b"]) for c in metrics["comparisons"]]
    assert pairs == [("mlp", "cnn"), ("mlp", "fast"), ("cnn", "fast")]
    md = (out / "report.md").read_text()
    for c in metrics["comparisons"]:
        assert 0 <= c["p_value"] <= 1 and c["words"] in md


def test_report_measures_each_model_under_shift(quick_report, fashion_test):
    """The "Under shift" section's numbers are the saved model's, and its
    model file keeps the default novelty detector."""
    from skfashion.datasets import CORRUPTIONS, corrupt_images
    from skfashion.evaluation import selective_accuracy
    from skfashion.io import load_detector
    from skfashion.novelty import METHODS

    out, _ = quick_report
    metrics = json.loads((out / "metrics.json").read_text())
    md = (out / "report.md").read_text()
    n_test = report_cli.QUICK["n_test"]
    X, y = fashion_test.data[:n_test], fashion_test.target[:n_test]
    for name in MODELS:
        shift = metrics[name]["shift"]
        model = joblib.load(out / name / "model.pkl")
        X_mixed = corrupt_images(X, "mixed", random_state=0)[0]
        assert shift["mixed_accuracy"] == np.mean(model.predict(X_mixed) == y)
        n = shift["n_per_severity"]
        X_c = corrupt_images(X[:n], "contrast", severity=5, random_state=0)[0]
        contrast = np.mean(model.predict(X_c) == y[:n])
        assert shift["accuracy_by_severity"]["contrast"]["5"] == contrast
        proba = model.predict_proba(X)
        assert shift["selective_accuracy_90"] == selective_accuracy(
            y, proba, coverage=0.9, classes=model.classes_
        )
        table = pd.read_csv(out / name / "shift.csv", index_col=0)
        assert list(table.index) == list(CORRUPTIONS)
        assert list(table.columns) == [f"severity {s}" for s in range(1, 6)] + [
            "mixed set"
        ]
        assert table.loc["contrast", "severity 5"] == pytest.approx(contrast, abs=1e-4)
        assert set(shift["detectors"]) == set(METHODS)
        for row in shift["detectors"].values():
            for kind in ("digits", "uniform", "gaussian", "constant", "upside_down"):
                assert 0 <= row[kind]["auroc"] <= 1
        detector = load_detector(out / name / "model.safetensors")
        assert detector.method == shift["default_detector"] == "energy"
        accepted = np.mean(detector.predict(X[: shift["n_in"]]) == 1)
        assert accepted == shift["detectors"]["energy"]["accepted_test"]
        assert f"{name}/shift.png" in md and f"{name}/novelty.png" in md
    assert md.count("### Under shift") == len(MODELS)
    assert "energy (saved)" in md


def test_estimate_comes_before_training(quick_report):
    _, stdout = quick_report
    lines = stdout.splitlines()
    assert lines[0].startswith("Expected duration: about ")
    assert "mlp" in lines[0] and "fast" in lines[0]


def test_report_models_hold_no_cli_objects(quick_report, fashion_test):
    from skfashion import load_model

    n_test = report_cli.QUICK["n_test"]
    out, _ = quick_report
    for name in MODELS:
        pkl = out / name / "model.pkl"
        script = (
            "import sys, joblib; joblib.load(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.startswith('skfashion.cli')))"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, str(pkl)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"  # loading it imports no CLI code
        safe = load_model(out / name / "model.safetensors")
        np.testing.assert_array_equal(
            safe.predict_proba(fashion_test.data[:n_test]),
            joblib.load(pkl).predict_proba(fashion_test.data[:n_test]),
        )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", "mlp,rnn"], "unknown model(s) rnn"),
        (["--models", ","], "unknown model"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--seeds", "mlp=2,gan=1"], "'gan', which is not in --models"),
        (["--seeds", "three"], "--seeds must be a number or model=number"),
        (["--precision", "float16"], "invalid choice"),
        (["--epochs", "ten"], "invalid int value"),
        (["--device", "tpu"], "--device must be"),
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


def test_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", "--quick", "--out", str(blocker / "report")]) == 2
    assert "is not writable" in capsys.readouterr().err
    assert main(["report", "--quick", "--out", str(blocker)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_interrupted_run_leaves_no_complete_looking_report(
    fashion_train, tmp_path, monkeypatch, capsys
):
    real = _outputs.write_model_folder

    def interrupt_on_cnn(folder, *args, **kwargs):
        if folder.name == "cnn":
            raise KeyboardInterrupt
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(_outputs, "write_model_folder", interrupt_on_cnn)
    out = tmp_path / "report"
    assert main(["report", "--quick", "--out", str(out)]) == 130
    assert not out.exists()
    partial = tmp_path / "report.partial"
    assert (partial / "INCOMPLETE").exists() and (
        partial / "mlp" / "model.pkl"
    ).exists()
    assert not (partial / "report.md").exists()
    assert not (partial / "metrics.json").exists()
    err = capsys.readouterr().err
    assert "interrupted" in err and "--resume" in err  # the finished mlp is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.checkpoints",
        "report.partial",
    ]


def test_crash_leaves_nothing_and_keeps_previous_report(
    fashion_train, tmp_path, monkeypatch
):
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("previous")

    def crash(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(_experiment, "evaluate", crash)
    with pytest.raises(RuntimeError, match="boom"):
        main(["report", "--quick", "--models", "mlp", "--out", str(out)])
    assert (out / "report.md").read_text() == "previous"
    # no half-written report anywhere; the fit that finished is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report",
        "report.checkpoints",
    ]
    kept = tmp_path / "report.checkpoints"
    assert [p.name for p in kept.glob("*/*/numbers.json")] == ["numbers.json"]


def test_full_disk_is_one_line_error(fashion_train, tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_outputs, "write_model_folder", full)
    out = tmp_path / "report"
    argv = ["report", "--quick", "--models", "mlp", "--out", str(out)]
    assert main(argv) == 1
    (error,) = [
        line for line in capsys.readouterr().err.splitlines() if "error" in line
    ]
    assert "No space left on device" in error and "--resume" in error
    # no half-written report; the trained fit is kept for --resume
    assert [p.name for p in tmp_path.iterdir()] == ["report.checkpoints"]
    monkeypatch.undo()
    assert main([*argv, "--resume"]) == 0
    assert (out / "report.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_move_into_place_replaces_previous(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    out.mkdir()
    (out / "old").write_text("old")
    work.mkdir()
    (work / "new").write_text("new")
    move_into_place(work, out)
    assert [p.name for p in out.iterdir()] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_report_as_subprocess(fashion_train, tmp_path):
    out = tmp_path / "r"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "skfashion.cli",
            "report",
            "--quick",
            "--models",
            "mlp",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "mlp: test accuracy" in done.stdout + done.stderr
    assert (out / "metrics.json").exists() and not (out / "cnn").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "skfashion.cli", "report", "--models", "gan"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_ctrl_c_then_resume(fashion_train, tmp_path, monkeypatch, capsys):
    import os
    import signal

    out = tmp_path / "report"
    argv = ["report", "--quick", "--models", "mlp", "--epochs", "3", "--out", str(out)]
    real = _progress.OverallProgress.on_epoch_end

    def ctrl_c_after_epoch_2(self, net, **kwargs):
        real(self, net, **kwargs)
        if len(net.history) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C

    monkeypatch.setattr(_progress.OverallProgress, "on_epoch_end", ctrl_c_after_epoch_2)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "--resume" in err and "report.checkpoints" in err
    assert not out.exists()
    checkpoints = tmp_path / "report.checkpoints"
    assert len(list(checkpoints.glob("*/*/*.pt"))) == 1
    monkeypatch.setattr(_progress.OverallProgress, "on_epoch_end", real)

    # another run into the same folder leaves the interrupted run's checkpoints
    other = ["report", "--quick", "--models", "mlp", "--out", str(out)]
    assert main(other) == 0
    assert len(list(checkpoints.glob("*/*/*.pt"))) == 1
    # the same run without --resume deletes nothing and says what to do
    assert main(argv) == 2
    assert "--resume" in capsys.readouterr().err
    assert len(list(checkpoints.glob("*/*/*.pt"))) == 1

    plans = []

    def plan(*args):
        plans.append(real_plan(*args))
        return plans[-1]

    real_plan = _experiment.plan
    monkeypatch.setattr(_experiment, "plan", plan)
    assert main([*argv, "--resume"]) == 0
    # the resumed run counts the epochs done (the Ctrl-C came before the
    # second epoch's checkpoint) and estimates only what is left
    (job,) = plans[0].jobs
    assert job.done_epochs == 1
    assert plans[0].batches_done_before == job.epoch_batches
    assert plans[0].total_batches == 3 * job.epoch_batches
    assert job.batches == 2 * job.epoch_batches
    history = pd.read_csv(out / "mlp" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert not checkpoints.exists()
    resumed = json.loads((out / "metrics.json").read_text())["mlp"]

    straight = tmp_path / "straight"
    assert main([*argv[:-1], str(straight)]) == 0
    expected = json.loads((straight / "metrics.json").read_text())["mlp"]
    assert resumed["test_accuracy"] == expected["test_accuracy"]
    assert not (tmp_path / "straight.checkpoints").exists()


def test_resume_without_checkpoints_says_so(fashion_train, tmp_path, capsys):
    out = tmp_path / "report"
    argv = ["report", "--quick", "--models", "mlp", "--out", str(out), "--resume"]
    assert main(argv) == 0
    assert "Nothing to resume" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize(
    "signame, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)]
)
def test_signals_stop_like_ctrl_c(fashion_train, tmp_path, signame, code):
    """kill, timeout, a container stop or a closed terminal: the run stops
    at the next batch, keeps its checkpoints and says how to resume."""
    import signal
    import time

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


def test_report_folder_is_readable_like_any_folder(fashion_train, tmp_path):
    import os
    import stat

    out = tmp_path / "report"
    assert main(["report", "--quick", "--models", "mlp", "--out", str(out)]) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask


@pytest.mark.parametrize("name", MODELS)
def test_planned_batches_are_the_estimators(name, fashion_train):
    """The report counts an epoch's batches with the estimator's own
    iterators: the same numbers its fit records."""
    data = _experiment.Data(
        fashion_train.data[:700], fashion_train.target[:700], None, None, 100
    )
    train, valid = _experiment._batches(name, data)
    clf = CLASSIFIERS[name](
        max_epochs=1, validation_split=slice(0, 100), **SMALL.get(name, {})
    )
    clf.fit(data.X / 255, data.y)
    assert clf.history_[-1, "train_batch_count"] == train
    assert clf.history_[-1, "valid_batch_count"] == valid


def test_config_is_decided_once():
    import argparse

    parser = argparse.ArgumentParser()
    report_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["report", "--models", "cnn,mlp,cnn", "--seeds", "mlp=2"])
    config = _config.config_from_args(args)
    assert config.models == ("cnn", "mlp")
    assert config.seeds == {"cnn": (0,), "mlp": (0, 1)}
    assert config.epochs == {"cnn": 10, "mlp": 10}  # the original's
    with pytest.raises(AttributeError):  # frozen
        config.quick = True
    quick = _config.config_from_args(parser.parse_args(["report", "--quick"]))
    assert quick.epochs == {"mlp": 1, "cnn": 1}
    assert quick.settings() != config.settings()


def _fixed_threads(monkeypatch):
    """Train on a fixed number of threads, so that two fits of the same
    settings in this process compute the same, bit for bit, whatever else
    the machine does (AdaptiveThreads would follow the load)."""
    from skfashion.callbacks import AdaptiveThreads

    monkeypatch.setattr(AdaptiveThreads, "on_train_begin", lambda *a, **k: None)
    monkeypatch.setattr(AdaptiveThreads, "on_batch_end", lambda *a, **k: None)
    monkeypatch.setattr(AdaptiveThreads, "on_train_end", lambda *a, **k: None)


def _results(out):
    """metrics.json without what depends on the clock."""
    metrics = json.loads((out / "metrics.json").read_text())
    metrics.pop("time")
    for name in ("mlp", "fast"):
        for key in ("train_seconds", "predict_seconds"):
            metrics[name].pop(key)
            for run in metrics[name]["runs"]:
                run.pop(key)
    return metrics


RESUME_ARGV = ["--quick", "--models", "mlp,fast", "--seeds", "mlp=2"]


@pytest.fixture(scope="module")
def straight_report(fashion_train, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "report"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fixed_threads(monkeypatch)
        assert main(["report", *RESUME_ARGV, "--out", str(out)]) == 0
    return _results(out)


@pytest.mark.parametrize("where", ["between seeds", "between models", "writing"])
def test_resume_reuses_every_finished_fit(
    straight_report, tmp_path, monkeypatch, capsys, where
):
    """Interrupted between the seeds of a model, between models or while
    the report is written, ``--resume`` trains only what did not finish --
    twice in a row -- and writes the report of an uninterrupted run."""
    _fixed_threads(monkeypatch)
    out = tmp_path / "report"
    argv = ["report", *RESUME_ARGV, "--out", str(out)]
    trained, real_train, real_write = [], _experiment.train, _outputs.write_run_files
    stop_at = {"between seeds": ("mlp", 1), "between models": ("fast", 0)}.get(where)

    def train(job, *args):
        if (job.name, job.seed) == stop_at:
            raise KeyboardInterrupt
        trained.append((job.name, job.seed))
        return real_train(job, *args)

    def write(*args):
        if where == "writing":
            raise KeyboardInterrupt
        return real_write(*args)

    monkeypatch.setattr(_experiment, "train", train)
    monkeypatch.setattr(_outputs, "write_run_files", write)
    assert main(argv) == 130
    assert main([*argv, "--resume"]) == 130  # again, at the same point
    assert not out.exists()
    first = list(trained)
    stop_at, where, trained[:] = None, None, []
    assert main([*argv, "--resume"]) == 0
    said = capsys.readouterr().out
    jobs = [("mlp", 0), ("mlp", 1), ("fast", 0)]
    # each fit trained once in all, the finished ones never again
    assert sorted(first + trained) == sorted(jobs)
    assert f"reusing {len(first)} finished fit(s)" in said
    assert _results(out) == straight_report
    assert not (tmp_path / "report.checkpoints").exists()
