"""The report as a library: ``run_report`` and what its ``Report`` writes,
checkpoints and resume, interruption, parallel fits -- through the API,
in this process (tests/cli/test_report.py keeps the command's own)."""

import hashlib
import json
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from report_runs import SMALL

from skfashion import CLASS_NAMES, load_model
from skfashion.evaluation import HELD_OUT_SPLITS
from skfashion.experiments import (
    QUICK,
    Report,
    ReportConfig,
    _protocol,
    run_report,
)
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
    "README.md",
]
MODELS = ["mlp", "cnn", "fast"]
#: fits of each model: two of the small ones (their mean, interval and the
#: first fit saved), one of the report's heavy CNN (the seeds' logic is the
#: same for every model)
SEEDS = {"mlp": 2, "cnn": 1, "fast": 2}


@pytest.fixture(scope="module")
def quick_run(fashion_train):
    """All three models, two seeds, quick, with ONNX graphs: the Report."""
    config = ReportConfig(models=MODELS, seeds=SEEDS, quick=True, onnx="int8")
    return run_report(config)


@pytest.fixture(scope="module")
def quick_report(quick_run, tmp_path_factory):
    """The quick run written by ``Report.write``: (its folder, the Report)."""
    out = tmp_path_factory.mktemp("r") / "report"
    assert quick_run.write(out) == out
    return out, quick_run


def test_quick_report_writes_every_file(quick_report, fashion_train, fashion_test):
    out, _ = quick_report
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*MODELS, "metrics.json", "recall.png", "report.md"]
    )
    metrics = json.loads((out / "metrics.json").read_text())
    n_test = QUICK["n_test"]
    for name in MODELS:
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(FILES)
        m = metrics[name]
        assert 0 <= m["test_accuracy"] <= 1 and 0 <= m["valid_accuracy"] <= 1
        assert m["train_seconds"] > 0 and m["seeds"] == SEEDS[name]
        assert [r["random_state"] for r in m["runs"]] == list(range(SEEDS[name]))
        assert metrics["protocol"]["random_states"][name] == list(range(SEEDS[name]))
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
        int8_accuracy = np.mean(int8_label == fashion_test.target[:n_test])
        assert m["int8"]["test_accuracy"] == pytest.approx(int8_accuracy)
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
        assert len(history) == SEEDS[name]  # one epoch per seed in quick mode
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

        n_valid = QUICK["n_valid"]
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
        # the model card: the saved model's own numbers, parsed back
        from huggingface_hub import ModelCard

        card = ModelCard.load(out / name / "README.md")
        (int8_result,) = [
            r for r in card.data.eval_results if r.metric_name == "int8 graph accuracy"
        ]
        results = {
            (r.dataset_type, r.metric_type): r.metric_value
            for r in card.data.eval_results
            if r is not int8_result
        }
        assert results == {
            ("fashion_mnist", "accuracy"): first,
            ("fashion_mnist_c", "accuracy"): m["shift"]["mixed_accuracy"],
            ("digits", "roc_auc"): m["shift"]["detectors"]["energy"]["digits"]["auroc"],
        }
        assert int8_result.metric_value == m["int8"]["test_accuracy"]
        for graph in ("model.onnx", "model-int8.onnx"):
            sha = hashlib.sha256((out / name / graph).read_bytes()).hexdigest()
            assert f"`{graph}`: ONNX" in card.text and sha in card.text
        assert card.data.model_name == m["model"]
    env = metrics["environment"]
    assert env["device"] in ("cpu", "cuda") and env["precision"] in (
        "float32",
        "bfloat16",
    )
    assert metrics["protocol"]["n_valid"] == QUICK["n_valid"]
    assert metrics["protocol"]["epochs"] == dict.fromkeys(MODELS, 1)
    assert metrics["time"]["estimated_seconds"] > 0
    # the report's CNN, its defaults, learns in the quick run's 16 steps on
    # 500 images: 47.7-58.0 % of the 300 test images for seeds 0-4 in
    # float32 (AMD EPYC, AVX2), far above the 10 % of chance; the bound
    # leaves room for bfloat16's rounding (the sampling error is about 3
    # points)
    assert metrics["cnn"]["runs"][0]["test_accuracy"] >= 0.3
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
        if len(acc) == 1:  # one fit: no spread, no interval
            assert (m["test_accuracy_std"], m["test_accuracy_ci95"]) == (0.0, None)
            continue
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


def test_report_measures_each_model_under_shift(
    quick_report, fashion_train, fashion_test
):
    """The "Under shift" section's numbers are the saved model's, each
    detector's those of a NoveltyDetector fitted alone (the report shares
    one forward pass among them), and its model file keeps the default."""
    from skfashion.datasets import CORRUPTIONS, corrupt_images, make_not_garments
    from skfashion.evaluation import detection_scores, selective_accuracy
    from skfashion.io import load_detector
    from skfashion.novelty import METHODS, NoveltyDetector

    out, _ = quick_report
    metrics = json.loads((out / "metrics.json").read_text())
    md = (out / "report.md").read_text()
    n_test = QUICK["n_test"]
    X, y = fashion_test.data[:n_test], fashion_test.target[:n_test]
    for name in MODELS:
        shift = metrics[name]["shift"]
        model = joblib.load(out / name / "model.pkl")
        contrast = shift["accuracy_by_severity"]["contrast"]["5"]
        if name != "cnn":  # the slowest; the numbers' code is every model's
            X_mixed = corrupt_images(X, "mixed", random_state=0)[0]
            assert shift["mixed_accuracy"] == np.mean(model.predict(X_mixed) == y)
            n = shift["n_per_severity"]
            X_c = corrupt_images(X[:n], "contrast", severity=5, random_state=0)[0]
            assert contrast == np.mean(model.predict(X_c) == y[:n])
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
        digits = make_not_garments("digits", n_samples=shift["n_out"], random_state=0)
        n_valid = QUICK["n_valid"]
        for method, row in shift["detectors"].items():
            for kind in ("digits", "uniform", "gaussian", "constant", "upside_down"):
                assert 0 <= row[kind]["auroc"] <= 1
            if name == "cnn":  # the slowest; the shared pass is the same code
                continue
            alone = NoveltyDetector(model, method=method, random_state=0)
            alone.fit(fashion_train.data[:n_valid], fashion_train.target[:n_valid])
            inside = alone.score_samples(X[: shift["n_in"]])
            expected = detection_scores(inside, alone.score_samples(digits))
            assert row["digits"]["auroc"] == expected["auroc"], (name, method)
            assert row["accepted_test"] == np.mean(inside >= alone.offset_)
        detector = load_detector(out / name / "model.safetensors")
        assert detector.method == shift["default_detector"] == "energy"
        accepted = np.mean(detector.predict(X[: shift["n_in"]]) == 1)
        assert accepted == shift["detectors"]["energy"]["accepted_test"]
        assert f"{name}/shift.png" in md and f"{name}/novelty.png" in md
    assert md.count("### Under shift") == len(MODELS)
    assert "energy (saved)" in md


def test_report_object_holds_what_it_writes(quick_report):
    """metrics.json and report.md are the Report's own numbers and text;
    it shows itself in a notebook; the folder is made as mkdir makes one."""
    import os
    import stat

    out, report = quick_report
    assert report.complete and report.config.models == tuple(MODELS)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(report.metrics))
    assert (out / "report.md").read_text() == report.markdown
    frame = report.summary()
    assert list(frame["seeds"]) == [SEEDS[m] for m in MODELS]
    assert np.allclose(
        frame["test accuracy"], [metrics[m]["test_accuracy"] for m in MODELS]
    )
    html = report._repr_html_()
    assert "<table" in html and "data:image/png;base64," in html
    assert all(report.titles[m] in html for m in MODELS)
    assert [len(report.fits[m]) for m in MODELS] == [SEEDS[m] for m in MODELS]
    assert report.time["estimated_seconds"] > 0 and report.checkpoints is None
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask


def test_report_models_hold_no_cli_objects(quick_report, fashion_test):
    from skfashion import load_model

    out, _ = quick_report
    pickles = [str(out / name / "model.pkl") for name in MODELS]
    script = (
        "import sys, joblib; [joblib.load(p) for p in sys.argv[1:]]; "
        "print(sorted(m for m in sys.modules if m.startswith('skfashion.cli')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *pickles], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"  # loading them imports no CLI code
    X = fashion_test.data[:50]  # the same numbers, or not: 50 images show it
    for name, pkl in zip(MODELS, pickles, strict=True):
        safe = load_model(out / name / "model.safetensors")
        np.testing.assert_array_equal(
            safe.predict_proba(X), joblib.load(pkl).predict_proba(X)
        )


@pytest.mark.parametrize("name", MODELS)
def test_planned_batches_are_the_estimators(name, fashion_train):
    """The report counts an epoch's batches with the estimator's own
    iterators: the same numbers its fit records."""
    data = _protocol.Data(
        fashion_train.data[:700], fashion_train.target[:700], None, None, 100
    )
    train, valid = _protocol._batches(name, data)
    clf = CLASSIFIERS[name](
        max_epochs=1, validation_split=slice(0, 100), **SMALL.get(name, {})
    )
    clf.fit(data.X / 255, data.y)
    assert clf.history_[-1, "train_batch_count"] == train
    assert clf.history_[-1, "valid_batch_count"] == valid


def test_config_is_decided_once():
    config = ReportConfig(models=["cnn", "mlp", "cnn"], seeds={"mlp": 2})
    assert config.models == ("cnn", "mlp")
    assert config.random_states == {"cnn": (0,), "mlp": (0, 1)}
    assert config.model_epochs == {"cnn": 10, "mlp": 10}  # the original's
    with pytest.raises(AttributeError):  # frozen
        config.quick = True
    quick = ReportConfig(quick=True, random_state=5)
    assert quick.model_epochs == {"mlp": 1, "cnn": 1}
    assert quick.random_states == {"mlp": (5,), "cnn": (5,)}
    assert quick.settings() != config.settings()
    assert ReportConfig(models="fast", epochs={"fast": 3}).model_epochs == {"fast": 3}
    splits = ReportConfig(held_out=[[6, 5], (0, 9), (6, 5)])
    assert splits.held_out == ((6, 5), (0, 9))  # tuples, repeats dropped
    assert splits.settings()["held_out"] == [[6, 5], [0, 9]]
    # a run without them keeps the settings, and so the checkpoints, it had
    assert "held_out" not in config.settings()
    assert ReportConfig(held_out=None).held_out == ()
    assert ReportConfig(held_out="all").held_out == HELD_OUT_SPLITS


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"models": ("mlp", "rnn")}, ValueError, "Unknown model"),
        ({"models": ()}, ValueError, "none given"),
        ({"seeds": 0}, ValueError, "seeds of mlp must be at least 1"),
        ({"seeds": {"gan": 2}}, ValueError, "'gan', which is not in models"),
        ({"seeds": 1.5}, TypeError, "must be an int"),
        ({"epochs": 0}, ValueError, "epochs of mlp must be at least 1"),
        ({"random_state": "0"}, TypeError, "random_state"),
        ({"onnx": "fp16"}, ValueError, "onnx must be one of"),
        ({"precision": "float16"}, ValueError, "precision must be one of"),
        ({"device": "tpu"}, ValueError, "device must be"),
        ({"n_jobs": "2"}, TypeError, "n_jobs"),
        ({"held_out": (6, 5)}, TypeError, r"held_out must be a sequence of splits"),
        ({"held_out": 6}, TypeError, r"such as \[\(6, 5\)\]"),
        ({"held_out": "some"}, ValueError, "held_out must be 'all'"),
        ({"held_out": [(10,)]}, ValueError, r"0 to 9; 10 is not one"),
        ({"held_out": [(1.0,)]}, ValueError, r"1.0 is not one"),
        ({"held_out": [()]}, ValueError, r"split \(\) must name classes"),
        ({"held_out": [(1, 1)]}, ValueError, "distinct classes"),
        ({"held_out": [range(9)]}, ValueError, "at least two to learn"),
    ],
)
def test_bad_config_is_refused_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        ReportConfig(**kwargs)


def test_crash_while_writing_leaves_the_previous_folder(
    quick_run, tmp_path, monkeypatch
):
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("previous")

    def crash(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(Report, "write_model", crash)
    with pytest.raises(RuntimeError, match="boom"):
        quick_run.write(out)
    assert (out / "report.md").read_text() == "previous"
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


def test_onnx_without_its_extra_is_refused_before_training(monkeypatch):
    """onnx= needs the onnx extra: refused by the config, not after the fits."""
    from skfashion.experiments import _report_config

    extra = ("onnx", "no_such_package_here")
    monkeypatch.setattr(_report_config, "ONNX_EXTRA", extra)
    assert ReportConfig(models="mlp").onnx is None  # not needed: no error
    with pytest.raises(ImportError, match=r"needs no_such_package_here: pip"):
        ReportConfig(models="mlp", onnx="int8")
