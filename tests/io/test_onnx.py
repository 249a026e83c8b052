"""export_onnx: the fitted pipeline as one ONNX graph that onnxruntime runs
with the labels and probabilities of PyTorch. Over every registered
classifier, alone and in a pipeline, with integer and string labels."""

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from cases import CASE_IDS, CASES, NAMES, blobs, final, make
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skfashion import FashionMLP, ImagePreprocessor, PixelScaler, export_onnx
from skfashion.io import quantize_onnx  # noqa: E402

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
pytest.importorskip("skl2onnx")

LABELS = np.array(["Bag", "Coat", "Shirt"])


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _float32_reference(model, X):
    """PyTorch's probabilities in float32 (what the graph computes, whatever
    the precision the model trained and predicts in), through predict_proba's
    nonlinearity."""
    clf = final(model)
    Xt = model[:-1].transform(X) if hasattr(model, "steps") else X
    with torch.no_grad():
        logits = clf.module_.float().eval()(torch.as_tensor(np.asarray(Xt, np.float32)))
    return clf._get_predict_nonlinearity()(logits).numpy()


@pytest.mark.parametrize("strings", [False, True], ids=["int", "str"])
@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_onnx_matches_pytorch(name, pipeline, strings, tmp_path):
    X, y = blobs(pixels=pipeline)
    labels = LABELS[y] if strings else y + 3
    model = make(name, pipeline=pipeline, precision="float32").fit(X, labels)
    path = tmp_path / "model.onnx"
    export_onnx(model, path)
    onnx.checker.check_model(str(path), full_check=True)
    session = _session(path)
    (inp,) = session.get_inputs()
    assert inp.type == ("tensor(uint8)" if pipeline else "tensor(float)")
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    big = np.resize(X, (1000, X.shape[1]))  # any batch size: 1, 7, 1000
    for batch in (X[:1], X[:7], big):
        label, proba = session.run(None, {"input": batch})
        np.testing.assert_array_equal(label, model.predict(batch))
        assert label.dtype.kind == ("O" if strings else "i")
        np.testing.assert_allclose(proba, model.predict_proba(batch), atol=1e-4)


def test_exports_build_the_exporters_table_once(tmp_path):
    """PyTorch's exporter asks onnxscript for its table of ONNX functions on
    every export; after the first export in a process it gets the one built
    then (an export of this process's other tests may have been first), and
    the graph is the same, byte for byte."""
    from torch.onnx._internal._lazy_import import onnxscript_apis

    X, y = blobs()
    model = make("mlp", precision="float32").fit(X, y)
    export_onnx(model, tmp_path / "a.onnx")
    table = onnxscript_apis.get_torchlib_ops
    before = table.cache_info()
    assert before.currsize == 1
    export_onnx(model, tmp_path / "b.onnx")
    after = table.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()


@pytest.mark.parametrize("name", ["mlp", "fast"])
def test_bfloat16_model_exports_in_float32(name, tmp_path):
    X, y = blobs()
    model = make(name, precision="bfloat16").fit(X, y)
    export_onnx(model, tmp_path / "m.onnx")
    label, proba = _session(tmp_path / "m.onnx").run(None, {"input": X})
    # the graph is the float32 network: PyTorch's float32 forward pass ...
    reference = _float32_reference(model, X)
    np.testing.assert_allclose(proba, reference, atol=1e-4)
    np.testing.assert_array_equal(label, reference.argmax(1))
    # ... and bfloat16 inference (8 bits of mantissa) rounds about 1e-2 off
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=2e-2)


def test_metadata(tmp_path):
    X, y = blobs(pixels=True)
    model = make("mlp", pipeline=True).fit(X, LABELS[y])
    export_onnx(model, tmp_path / "m.onnx")
    meta = _session(tmp_path / "m.onnx").get_modelmeta().custom_metadata_map
    import skfashion

    assert meta["skfashion_version"] == skfashion.__version__
    assert json.loads(meta["classes"]) == LABELS.tolist()
    history = model[-1].history_
    assert float(meta["train_accuracy"]) == pytest.approx(history[-1, "train_acc"])
    assert meta["estimator"] == "FashionMLP"


def test_scikit_learn_steps_through_skl2onnx(tmp_path):
    X, y = blobs()
    model = make_pipeline(StandardScaler(), make("mlp", precision="float32")).fit(X, y)
    export_onnx(model, tmp_path / "m.onnx")
    label, proba = _session(tmp_path / "m.onnx").run(None, {"input": X})
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-4)


def test_bad_models_and_paths_write_nothing(tmp_path):
    X, y = blobs(pixels=True)
    path = tmp_path / "m.onnx"
    with pytest.raises(NotFittedError):
        export_onnx(FashionMLP(), path)
    with pytest.raises(NotFittedError):
        export_onnx(make_pipeline(PixelScaler(), FashionMLP()), path)
    with pytest.raises(TypeError, match="StandardScaler"):
        export_onnx(StandardScaler().fit(X), path)
    fitted = make("mlp", pipeline=True).fit(X, y)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_onnx(fitted, tmp_path / "missing" / "m.onnx")
    images = make_pipeline(ImagePreprocessor(), PixelScaler(), make("mlp"))
    images.fit(list(X.reshape(-1, 6, 6)), y)
    with pytest.raises(ValueError, match="imagepreprocessor.*ImagePreprocessor"):
        export_onnx(images, path)
    odd = make_pipeline(FunctionTransformer(np.sqrt), make("mlp")).fit(X / 255, y)
    with pytest.raises(ValueError, match="functiontransformer"):
        export_onnx(odd, path)
    own = make("mlp", predict_nonlinearity=torch.sigmoid).fit(X / 255, y)
    with pytest.raises(ValueError, match="predict_nonlinearity=<built-in"):
        export_onnx(own, path)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_previous_file(tmp_path, monkeypatch):
    X, y = blobs()
    model = make("mlp").fit(X, y)
    path = tmp_path / "m.onnx"
    path.write_bytes(b"previous")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(onnx, "save_model", broken)
    with pytest.raises(OSError, match="disk full"):
        export_onnx(model, path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_predict_command_runs_onnx(fashion_train, tmp_path, capsys):
    from PIL import Image

    from skfashion.cli import main

    X, y = fashion_train.data[:600], fashion_train.target[:600]
    model = make_pipeline(
        PixelScaler(), FashionMLP(hidden_units=(32,), max_epochs=2, random_state=0)
    ).fit(X, y)
    export_onnx(model, tmp_path / "model.onnx")
    picture = tmp_path / "shoe.png"
    Image.fromarray(X[0].reshape(28, 28)).save(picture)
    assert main(["predict", "--model", str(tmp_path / "model.onnx"), str(picture)]) == 0
    from_onnx = capsys.readouterr().out
    from skfashion import save_model

    save_model(model, tmp_path / "model.safetensors")
    assert (
        main(["predict", "--model", str(tmp_path / "model.safetensors"), str(picture)])
        == 0
    )
    from_torch = capsys.readouterr().out

    def classes(line):  # "p.png: Ankle boot 21.5 %, Coat 16.2 %, ..."
        return [g.rsplit(" ", 2)[0] for g in line.split(": ", 1)[1].split(", ")]

    assert classes(from_onnx) == classes(from_torch)


def test_predict_sizes_photos_for_the_graph(tmp_path, capsys):
    """A graph for 6x6 images given a photo: predict converts it to 6x6, as
    serve does; rows of another size get one line saying what the graph
    takes, not onnxruntime's message."""
    from PIL import Image

    from skfashion.cli import main
    from skfashion.io import load_predictor

    X, y = blobs(pixels=True)
    export_onnx(make("mlp", pipeline=True).fit(X, y), tmp_path / "model.onnx")
    picture = tmp_path / "shoe.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(picture)
    assert main(["predict", "--model", str(tmp_path / "model.onnx"), str(picture)]) == 0
    assert capsys.readouterr().out.startswith(f"{picture}: ")
    predictor = load_predictor(tmp_path / "model.onnx")
    assert predictor.side == 6 and predictor.pixels(picture).shape == (36,)
    with pytest.raises(ValueError, match=r"takes 6x6 images \(36 pixels\), got 28x28"):
        predictor.predict_proba(np.zeros((1, 784)))


SNIPPET = Path(__file__).parents[2] / "docs" / "user_guide" / "onnx_snippet.py"


def test_docs_snippet_needs_neither_torch_nor_skfashion(fashion_train, tmp_path):
    from PIL import Image

    X, y = fashion_train.data[:600], fashion_train.target[:600]
    model = make_pipeline(
        PixelScaler(), FashionMLP(hidden_units=(32,), max_epochs=2, random_state=0)
    ).fit(X, y)
    export_onnx(model, tmp_path / "model.onnx")
    Image.fromarray(255 - X[1].reshape(28, 28)).resize((90, 90)).save(
        tmp_path / "p.png"
    )
    # the snippet runs where torch and skfashion cannot be imported
    blocker = textwrap.dedent(
        """
        import sys
        for name in ("torch", "skfashion", "sklearn", "skorch"):
            sys.modules[name] = None  # import fails
        sys.argv = ["snippet", "model.onnx", "p.png"]
        exec(open(SNIPPET).read())
        """
    ).replace("SNIPPET", repr(str(SNIPPET)))
    done = subprocess.run(
        [sys.executable, "-c", blocker], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().split()[0] in {str(c) for c in model.classes_}


@pytest.mark.slow
def test_real_model_labels_equal_on_all_test_images(mlp_folder, fashion_test, tmp_path):
    model, _ = mlp_folder  # trained on real images
    export_onnx(model, tmp_path / "m.onnx")
    X = fashion_test.data
    label, proba = _session(tmp_path / "m.onnx").run(None, {"input": X})
    reference = _float32_reference(model, X)
    np.testing.assert_array_equal(label, reference.argmax(1))
    np.testing.assert_allclose(proba, reference, atol=1e-4)


# -- int8 graphs ------------------------------------------------------------


@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_int8_graph_gives_the_float_graphs_answers(name, pipeline, tmp_path):
    X, y = blobs(pixels=pipeline)
    model = make(name, pipeline=pipeline, precision="float32").fit(X, y)
    export_onnx(model, tmp_path / "float.onnx")
    export_onnx(model, tmp_path / "int8.onnx", quantize="int8", calibration=X)
    graph = onnx.load_model(tmp_path / "int8.onnx")
    onnx.checker.check_model(graph, full_check=True)
    ops = {node.op_type for node in graph.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    int8 = [t for t in graph.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert int8  # the weights, stored in 8 bits
    session = _session(tmp_path / "int8.onnx")
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["precision"] == "int8"
    assert meta["calibration_images"] == str(len(X))
    assert json.loads(meta["classes"]) == model.classes_.tolist()
    label, proba = session.run(None, {"input": X})
    float_label, float_proba = _session(tmp_path / "float.onnx").run(None, {"input": X})
    # 8 bits: probabilities within a few hundredths, so the same labels
    # wherever the float graph's top two are further apart than that
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.abs(proba - float_proba).max() < 0.05
    top2 = np.sort(float_proba, axis=1)[:, -2:]
    sure = top2[:, 1] - top2[:, 0] > 0.1
    assert sure.mean() > 0.9  # the blobs are well apart
    np.testing.assert_array_equal(label[sure], float_label[sure])
    # the same file, made from the float graph (the network exported once)
    quantize_onnx(tmp_path / "float.onnx", tmp_path / "twin.onnx", X)
    twin = (tmp_path / "twin.onnx").read_bytes()
    assert twin == (tmp_path / "int8.onnx").read_bytes()
    _check_card_of_graphs(model, tmp_path, X, y, np.mean(label == y))


def _check_card_of_graphs(model, folder, X, y, int8_accuracy):
    """The model card names both graphs, with their SHA-256 and precision,
    and the int8 accuracy recomputed from the int8 graph."""
    hub = pytest.importorskip("huggingface_hub")
    from skfashion import load_model, save_model
    from skfashion.io import model_card

    path = folder / "model.safetensors"
    save_model(model, path)
    accuracy = load_model(path).score(X, y)
    evaluation = {"test_accuracy": accuracy, "int8": {"test_accuracy": int8_accuracy}}
    graphs = [folder / "float.onnx", folder / "int8.onnx"]
    with pytest.raises(ValueError, match="no int8 graph"):
        model_card(path, evaluation, graphs=graphs[:1])
    model_card(path, evaluation, graphs=graphs).save(folder / "README.md")
    card = hub.ModelCard.load(folder / "README.md")
    assert [(r.metric_name, r.metric_value) for r in card.data.eval_results] == [
        (None, accuracy),
        ("int8 graph accuracy", int8_accuracy),
    ]
    sha = [hashlib.sha256(g.read_bytes()).hexdigest() for g in graphs]
    assert f"- `float.onnx`: ONNX, float32, SHA-256 `{sha[0]}`." in card.text
    assert f"calibrated on {len(X)} images), SHA-256 `{sha[1]}`" in card.text
    change = f"({100 * (int8_accuracy - accuracy):+.2f} points from the float model's)"
    assert change in card.text


def test_quantize_onnx_takes_float_graphs_of_export_onnx_only(tmp_path):
    X, y = blobs(pixels=True)
    model = make("mlp", pipeline=True).fit(X, y)
    export_onnx(model, tmp_path / "int8.onnx", quantize="int8", calibration=X)
    stranger = onnx.load_model(tmp_path / "int8.onnx")
    stranger.producer_name = "someone"
    onnx.save_model(stranger, tmp_path / "stranger.onnx")
    for source in ("int8.onnx", "stranger.onnx"):
        with pytest.raises(ValueError, match="not a float32 graph written by"):
            quantize_onnx(tmp_path / source, tmp_path / "out.onnx", X)
    export_onnx(model, tmp_path / "float.onnx")
    with pytest.raises(ValueError, match=r"shape \(n_images, 36\)"):
        quantize_onnx(tmp_path / "float.onnx", tmp_path / "out.onnx", X[:, :35])
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize("name", NAMES)
def test_int8_graph_keeps_only_the_image_convolutions_float(name, tmp_path):
    X, y = blobs(pixels=True)
    model = make(name, pipeline=True, precision="float32").fit(X, y)
    export_onnx(model, tmp_path / "int8.onnx", quantize="int8", calibration=X)
    graph = onnx.load_model(tmp_path / "int8.onnx").graph
    initializers = {t.name: t for t in graph.initializer}
    dequantized = {
        n.output[0]: initializers[n.input[0]]
        for n in graph.node
        if n.op_type == "DequantizeLinear" and n.input[0] in initializers
    }
    kinds = []
    for node in graph.node:
        if node.op_type not in ("Conv", "MatMul", "Gemm"):
            continue
        weight = node.input[1]
        if weight in dequantized:
            tensor, kind = dequantized[weight], "int8"
            assert tensor.data_type == onnx.TensorProto.INT8
        else:
            tensor, kind = initializers[weight], "float"
        one_channel = node.op_type == "Conv" and tensor.dims[1] == 1
        assert kind == ("float" if one_channel else "int8"), node.name
        kinds.append(kind)
    assert "int8" in kinds
    # the convolutional networks' first layer reads the image: float
    assert ("float" in kinds) == (name != "mlp")


def test_int8_export_checks_its_arguments_and_writes_nothing(tmp_path):
    X, y = blobs(pixels=True)
    model = make("mlp", pipeline=True).fit(X, y)
    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match="quantize must be None or 'int8', got 'int4'"):
        export_onnx(model, path, quantize="int4", calibration=X)
    with pytest.raises(ValueError, match="needs calibration images"):
        export_onnx(model, path, quantize="int8")
    with pytest.raises(ValueError, match=r"shape \(n_images, 36\).*got \(5, 35\)"):
        export_onnx(model, path, quantize="int8", calibration=X[:5, :35])
    with pytest.raises(ValueError, match="finite numbers"):
        export_onnx(model, path, quantize="int8", calibration=np.full((3, 36), np.nan))
    with pytest.raises(ValueError, match="only with quantize='int8'"):
        export_onnx(model, path, calibration=X)
    assert list(tmp_path.iterdir()) == []


def test_predict_command_runs_an_int8_graph(
    mlp_folder, fashion_train, fashion_test, tmp_path, capsys
):
    from PIL import Image

    from skfashion import CLASS_NAMES
    from skfashion.cli import main

    pipe, _ = mlp_folder
    graph = tmp_path / "model.onnx"
    export_onnx(pipe, graph, quantize="int8", calibration=fashion_train.data[:300])
    pictures = []
    for i in range(5):
        pictures.append(tmp_path / f"p{i}.png")
        Image.fromarray(fashion_test.images[i]).save(pictures[-1])
    assert main(["predict", "--model", str(graph), "--json", *map(str, pictures)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    labels = [line["predictions"][0]["label"] for line in lines]
    expected = [CLASS_NAMES[c] for c in pipe.predict(fashion_test.data[:5])]
    assert np.mean(np.array(labels) == np.array(expected)) >= 0.8


@pytest.mark.parametrize("method", ["energy", "msp"])
@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_graph_gives_the_detectors_garment_score(name, pipeline, method, tmp_path):
    from skfashion.io import load_predictor
    from skfashion.novelty import NoveltyDetector

    X, y = blobs(pixels=pipeline)
    model = make(name, pipeline=pipeline, precision="float32").fit(X, y)
    detector = NoveltyDetector(model, method=method).fit(X)
    path = tmp_path / "model.onnx"
    export_onnx(model, path, detector=detector)
    session = _session(path)
    names = [o.name for o in session.get_outputs()]
    assert names == ["label", "probabilities", "garment_score"]
    strangers = np.full_like(X[:20], X.max())  # constant images
    batch = np.concatenate([X, strangers])
    label, _, score = session.run(None, {"input": batch})
    assert score.shape == (len(batch),) and score.dtype == np.float32
    np.testing.assert_array_equal(label, model.predict(batch))
    # the float32 graph's log-sum-exp or largest probability of the logits
    expected = detector.score_samples(batch)
    np.testing.assert_allclose(score, expected, rtol=1e-4, atol=1e-4)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["novelty_method"] == method
    assert float(meta["garment_score_threshold"]) == detector.offset_
    # onnxruntime alone keeps the check: the predictor reads it from the graph
    predictor = load_predictor(path)
    assert predictor.detector.method == method
    assert predictor.detector.offset_ == detector.offset_
    rows = batch.astype(np.float32) * (1 if pipeline else 255)  # 0-255 pixels
    scores, accepted = predictor.garment(rows)
    np.testing.assert_allclose(scores, score, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(accepted, score >= detector.offset_)
    answer = predictor.answer(rows)
    assert answer.shape == (len(batch), len(model.classes_) + 1)
    np.testing.assert_allclose(answer[:, -1], score, rtol=1e-6, atol=1e-6)


def test_graph_without_a_detector_has_no_score(tmp_path):
    from skfashion.io import load_predictor

    X, y = blobs(pixels=True)
    model = make("mlp", pipeline=True).fit(X, y)
    export_onnx(model, tmp_path / "m.onnx")
    predictor = load_predictor(tmp_path / "m.onnx")
    assert predictor.detector is None
    assert predictor.answer(X).shape == (len(X), len(model.classes_))
    meta = _session(tmp_path / "m.onnx").get_modelmeta().custom_metadata_map
    assert "garment_score_threshold" not in meta


def test_int8_graph_gives_the_garment_score_too(tmp_path):
    from skfashion.novelty import NoveltyDetector

    X, y = blobs(pixels=True)
    model = make("cnn", pipeline=True, precision="float32").fit(X, y)
    detector = NoveltyDetector(model).fit(X)
    path = tmp_path / "m.onnx"
    export_onnx(model, path, quantize="int8", calibration=X, detector=detector)
    _, _, score = _session(path).run(None, {"input": X})
    # int8 logits: near the float scores, not equal
    assert np.corrcoef(score, detector.score_samples(X))[0, 1] > 0.9


def test_detectors_the_graph_cannot_carry_are_refused(tmp_path):
    from skfashion.novelty import NoveltyDetector

    X, y = blobs(pixels=True)
    model = make("mlp", pipeline=True).fit(X, y)
    other = make("mlp", pipeline=True, random_state=1).fit(X, y)
    path = tmp_path / "m.onnx"
    cases = [
        (
            NoveltyDetector(model, method="mahalanobis", random_state=0).fit(X),
            ValueError,
            "not method='mahalanobis'",
        ),
        (NoveltyDetector(other).fit(X), ValueError, "another classifier"),
        (NoveltyDetector(model), NotFittedError, "NoveltyDetector"),
        ("energy", TypeError, "must be a fitted skfashion.novelty"),
    ]
    for detector, error, message in cases:
        with pytest.raises(error, match=message):
            export_onnx(model, path, detector=detector)
        assert not path.exists()
