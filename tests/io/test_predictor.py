"""The one model adapter: every kind of model file ``predict`` and ``serve``
take loads as a Predictor that answers what the model answers, for every
registered classifier."""

import numpy as np
import pytest
from cases import NAMES, SIDE, blobs, make
from PIL import Image

from skfashion import ImagePreprocessor, export_onnx, preprocess_image, save_model
from skfashion.io import OnnxModel, Predictor, load_predictor
from skfashion.utils import UnsupportedModelError


@pytest.fixture(scope="module", params=NAMES)
def model(request):
    """A pipeline (PixelScaler + classifier) fitted on 6x6 0-255 pictures."""
    X, y = blobs(pixels=True)
    return make(request.param, pipeline=True).fit(X, y), X


def test_a_safe_file_and_its_folder_load_as_the_model(model, tmp_path):
    pipe, X = model
    save_model(pipe, tmp_path / "model.safetensors")
    for path in (tmp_path / "model.safetensors", tmp_path):
        predictor = load_predictor(path)
        assert isinstance(predictor, Predictor) and predictor.side == SIDE
        assert predictor.platform == "skfashion"
        np.testing.assert_array_equal(predictor.classes_, pipe.classes_)
        np.testing.assert_allclose(
            predictor.predict_proba(X), pipe.predict_proba(X), atol=1e-6
        )


def test_an_onnx_graph_loads_as_the_model(model, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    pipe, X = model
    export_onnx(pipe, tmp_path / "model.onnx")
    predictor = load_predictor(tmp_path)  # the folder: its only model
    assert isinstance(predictor.model, OnnxModel)
    assert predictor.platform == "onnxruntime" and predictor.side == SIDE
    assert predictor.describe().startswith("ONNX graph, 6x6 pictures -> 3 classes")
    # onnxruntime's float kernels differ from PyTorch's in the last digits;
    # where precision="auto" chose bfloat16 (a CPU with AVX512-BF16 or AMX),
    # PyTorch's inference rounds to 8 bits of mantissa: about 1e-2 off the
    # float32 graph (as in test_onnx.py)
    torch_proba, onnx_proba = pipe.predict_proba(X), predictor.predict_proba(X)
    atol = 2e-2 if pipe[-1].precision_ == "bfloat16" else 1e-3
    np.testing.assert_allclose(onnx_proba, torch_proba, atol=atol)


def test_a_pickle_warns_before_it_runs(model, tmp_path):
    import joblib

    pipe, X = model
    joblib.dump(pipe, tmp_path / "model.pkl")
    said = []
    with pytest.raises(ValueError, match="is a pickle.*refused.*allow_pickle=True"):
        load_predictor(tmp_path, warn=said.append)
    assert said == []  # refused before anything is read
    predictor = load_predictor(tmp_path, allow_pickle=True, warn=said.append)
    assert len(said) == 1 and "loading a pickle runs code" in said[0]
    np.testing.assert_array_equal(predictor.classes_, pipe.classes_)
    with pytest.warns(UserWarning, match="runs code"):
        load_predictor(tmp_path / "model.pkl", allow_pickle=True)


def test_named_top_k(model):
    pipe, X = model
    predictor = Predictor(pipe)
    proba = predictor.predict_proba(X[:4])
    assert proba.dtype == np.float32
    top = predictor.top(proba, k=2)
    for row, best in zip(proba, top, strict=True):
        assert [b["label"] for b in best] == [
            predictor.class_names[i] for i in np.argsort(row)[::-1][:2]
        ]
        assert best[0]["probability"] == round(float(row.max()), 4)
    raw = predictor.top(proba, k=1, decimals=None)
    assert [r[0]["probability"] for r in raw] == proba.max(axis=1).tolist()


def test_pictures_are_converted_at_the_models_size(model, tmp_path):
    pipe, X = model
    picture = tmp_path / "photo.png"
    Image.fromarray(np.full((40, 30), 200, np.uint8)).save(picture)
    predictor = Predictor(pipe)
    np.testing.assert_array_equal(
        predictor.pixels(picture), preprocess_image(picture, size=SIDE)
    )


def test_an_image_preprocessor_pipeline_is_run_from_its_second_step(model):
    from sklearn.pipeline import make_pipeline

    pipe, X = model
    full = make_pipeline(ImagePreprocessor(size=SIDE), *(s for _, s in pipe.steps))
    predictor = Predictor(full)
    assert predictor.side == SIDE and len(predictor.model.steps) == len(pipe.steps)
    pictures = [x.reshape(SIDE, SIDE).astype(np.uint8) for x in X[:3]]
    rows = np.stack([predictor.pixels(p) for p in pictures])
    np.testing.assert_allclose(
        predictor.predict_proba(rows), full.predict_proba(pictures), atol=1e-6
    )


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda p: p, "no such model file"),
        (lambda p: (p.mkdir(), p)[1], "no model.safetensors or model.pkl in it"),
        (lambda p: (p.write_text("x"), p)[1], "not a model file"),
    ],
)
def test_what_is_not_a_model_is_one_value_error(make_bad, message, tmp_path):
    path = make_bad(tmp_path / "thing")
    with pytest.raises(ValueError, match=message):
        load_predictor(path)


def test_only_fitted_classifiers_are_predictors():
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(TypeError, match="fitted classifier with predict_proba"):
        Predictor(StandardScaler())


@pytest.mark.parametrize("write", [save_model, export_onnx])
def test_writers_refuse_what_is_not_a_classifier_with_one_error(write, tmp_path):
    """save_model and export_onnx split a model the same way and raise the
    same error, both a TypeError and a ValueError."""
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(UnsupportedModelError, match="got StandardScaler") as info:
        write(StandardScaler(), tmp_path / "m")
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
