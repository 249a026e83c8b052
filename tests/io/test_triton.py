"""export_triton and ``skfashion export --triton``: a model repository whose
config.pbtxt is a valid Triton ModelConfig (parsed by Triton's own proto)
that says what the graph's inputs and outputs are, for every registered
classifier, float and int8."""

import hashlib

import numpy as np
import pytest
from cases import CASE_IDS, CASES, blobs, make

from skfashion.cli import main
from skfashion.io import export_triton

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
model_config_pb2 = pytest.importorskip("tritonclient.grpc.model_config_pb2")
text_format = pytest.importorskip("google.protobuf.text_format")
try:
    import huggingface_hub as HUB
except ImportError:  # the cards extra: export writes no card without it
    HUB = None

TRITON_TYPES = {
    onnx.TensorProto.FLOAT: model_config_pb2.TYPE_FP32,
    onnx.TensorProto.UINT8: model_config_pb2.TYPE_UINT8,
    onnx.TensorProto.INT64: model_config_pb2.TYPE_INT64,
    onnx.TensorProto.STRING: model_config_pb2.TYPE_STRING,
}


def _parsed(folder):
    config = model_config_pb2.ModelConfig()
    text_format.Parse((folder / "config.pbtxt").read_text(), config)
    return config


def _check_against_graph(config, graph_path):
    """Each config tensor is the graph's: name, type, dims after the batch."""
    graph = onnx.load(graph_path)
    for entries, values in (
        (config.input, graph.graph.input),
        (config.output, graph.graph.output),
    ):
        assert [e.name for e in entries] == [v.name for v in values]
        for entry, value in zip(entries, values, strict=True):
            kind = value.type.tensor_type
            assert entry.data_type == TRITON_TYPES[kind.elem_type], entry.name
            dims = [
                d.dim_value if d.HasField("dim_value") else -1 for d in kind.shape.dim
            ]
            assert dims[0] == -1  # any batch size
            if dims[1:]:
                assert list(entry.dims) == dims[1:]
                assert not entry.HasField("reshape")
            else:  # a [batch] tensor: Triton's [1] reshaped to []
                assert list(entry.dims) == [1]
                assert entry.HasField("reshape") and list(entry.reshape.shape) == []


@pytest.mark.parametrize("int8", [False, True], ids=["float", "int8"])
@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_repository_config_matches_the_graph(name, pipeline, int8, tmp_path):
    from skfashion.novelty import NoveltyDetector

    X, y = blobs(pixels=pipeline)
    model = make(name, pipeline=pipeline, precision="float32").fit(X, y)
    detector = NoveltyDetector(model).fit(X)
    quantize = {"quantize": "int8", "calibration": X} if int8 else {}
    folder = export_triton(
        model, tmp_path / "repo", name="fashion", detector=detector, **quantize
    )
    assert folder == tmp_path / "repo" / "fashion"
    config = _parsed(folder)
    assert config.name == "fashion"
    assert config.platform == "onnxruntime_onnx"
    assert config.max_batch_size == 256
    assert config.dynamic_batching.max_queue_delay_microseconds == 500
    graph_path = folder / "1" / "model.onnx"
    _check_against_graph(config, graph_path)
    assert [o.name for o in config.output] == [
        "label",
        "probabilities",
        "garment_score",
    ]
    (proba,) = [o for o in config.output if o.name == "probabilities"]
    assert proba.label_filename == "labels.txt"
    labels = (folder / "labels.txt").read_text().splitlines()
    assert len(labels) == len(model.classes_) == proba.dims[0]
    # the graph in the repository is export_onnx's: the model's labels
    session = ort.InferenceSession(str(graph_path), providers=["CPUExecutionProvider"])
    label, _, _ = session.run(None, {"input": X})
    agree = (label == model.predict(X)).mean()
    assert agree == 1.0 if not int8 else agree > 0.9
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["precision"] == ("int8" if int8 else "float32")
    assert not list((tmp_path / "repo").glob(".*"))  # no staging folder left


def test_string_labels_and_no_detector(tmp_path):
    X, y = blobs()
    model = make("mlp").fit(X, np.array(["Bag", "Coat", "Shirt"])[y])
    folder = export_triton(model, tmp_path, max_batch_size=8, queue_delay_us=0)
    config = _parsed(folder)
    _check_against_graph(config, folder / "1" / "model.onnx")
    assert [o.name for o in config.output] == ["label", "probabilities"]
    assert config.output[0].data_type == model_config_pb2.TYPE_STRING
    assert config.input[0].data_type == model_config_pb2.TYPE_FP32
    assert config.max_batch_size == 8
    assert (folder / "labels.txt").read_text() == "Bag\nCoat\nShirt\n"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "../up"}, ValueError, "name must be letters"),
        ({"name": ""}, ValueError, "name must be letters"),
        ({"max_batch_size": 0}, ValueError, "max_batch_size must be an int >= 1"),
        ({"queue_delay_us": -1}, ValueError, "queue_delay_us must be an int >= 0"),
        ({"quantize": "int4"}, ValueError, "quantize"),
    ],
)
def test_bad_arguments_write_nothing(kwargs, error, message, tmp_path):
    X, y = blobs()
    model = make("mlp").fit(X, y)
    with pytest.raises(error, match=message):
        export_triton(model, tmp_path / "repo", **kwargs)
    repo = tmp_path / "repo"
    assert not repo.exists() or not any(repo.iterdir())  # no staging left


def test_an_existing_model_folder_is_refused(tmp_path):
    X, y = blobs()
    model = make("mlp").fit(X, y)
    (tmp_path / "skfashion").mkdir()
    (tmp_path / "skfashion" / "keep").write_text("mine")
    with pytest.raises(FileExistsError, match="exists"):
        export_triton(model, tmp_path)
    assert (tmp_path / "skfashion" / "keep").read_text() == "mine"


@pytest.mark.parametrize("int8", [False, True], ids=["float", "int8"])
def test_export_command_writes_a_repository(mlp_folder, tmp_path, capsys, int8):
    from skfashion import save_model
    from skfashion.novelty import NoveltyDetector

    pipe, folder = mlp_folder
    model_file = tmp_path / "model.safetensors"
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (200, 784)).astype(np.uint8)
    detector = NoveltyDetector(pipe).fit(images)
    card = {"test_accuracy": 0.875} if HUB else None
    save_model(pipe, model_file, detector=detector, card=card)
    argv = ["export", "--triton", str(tmp_path / "repo"), "--model", str(model_file)]
    argv += ["--name", "fashion", *(["--int8"] if int8 else [])]
    assert main(argv) == 0
    assert "tritonserver --model-repository" in capsys.readouterr().out
    repo = tmp_path / "repo" / "fashion"
    config = _parsed(repo)
    _check_against_graph(config, repo / "1" / "model.onnx")
    assert config.input[0].data_type == model_config_pb2.TYPE_UINT8
    assert list(config.input[0].dims) == [784]
    assert [o.name for o in config.output][-1] == "garment_score"
    labels = (repo / "labels.txt").read_text().splitlines()
    assert labels[:2] == ["T-shirt/top", "Trouser"] and len(labels) == 10
    if HUB:  # the model's card, carried, naming the graph it serves
        carried = HUB.ModelCard.load(repo / "README.md")
        assert carried.data.eval_results[0].metric_value == 0.875
        graph = repo / "1" / "model.onnx"
        sha = hashlib.sha256(graph.read_bytes()).hexdigest()
        precision = "int8 (static" if int8 else "float32,"
        assert f"`1/model.onnx`: ONNX, {precision}" in carried.text
        assert sha in carried.text
        assert "SHA-256" in carried.text and "energy detector's" in carried.text
    # again: the folder exists, refused with one line
    assert main(argv) == 2
    assert "exists" in capsys.readouterr().err


def test_export_command_refuses_what_it_cannot_export(tmp_path, capsys):
    from skfashion import export_onnx

    X, y = blobs(pixels=True)
    model = make("mlp", pipeline=True).fit(X, y)
    export_onnx(model, tmp_path / "m.onnx")
    repo = tmp_path / "repo"
    assert (
        main(["export", "--triton", str(repo), "--model", str(tmp_path / "m.onnx")])
        == 2
    )
    assert "is an ONNX graph" in capsys.readouterr().err
    assert main(["export", "--triton", str(repo), "--model", str(tmp_path / "no")]) == 2
    assert "no such model file" in capsys.readouterr().err
    assert not repo.exists()
