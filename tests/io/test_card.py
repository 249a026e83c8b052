"""Model cards: built from a model file and its numbers, parsed back by
huggingface_hub, every number recomputed from the saved model."""

import hashlib

import numpy as np
import pytest
from cases import CASE_IDS, CASES, data_for, final, make

hub = pytest.importorskip("huggingface_hub")

from skfashion import export_onnx, load_model, save_model  # noqa: E402
from skfashion.io import (  # noqa: E402
    export_triton,
    find_card,
    load_detector,
    load_predictor,
    model_card,
)
from skfashion.novelty import NoveltyDetector  # noqa: E402


def _results(card):
    return {
        (r.dataset_type, r.metric_type): r.metric_value for r in card.data.eval_results
    }


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("name", "pipeline"), CASES, ids=CASE_IDS)
def test_card_of_every_classifier_parses_back(name, pipeline, tmp_path):
    """Every classifier, alone (without a detector) and in a pipeline (with
    one): the card parses back, with the numbers recomputed from the saved
    file (its graphs, float and int8: tests/io/test_onnx.py)."""
    X, y = data_for(pipeline)
    model = make(name, pipeline, max_epochs=1).fit(X, y)
    detector = None
    if pipeline:
        detector = NoveltyDetector(model, method="energy", random_state=0).fit(X)
    path = tmp_path / "model.safetensors"
    save_model(model, path, detector=detector)
    accuracy = load_model(path).score(X, y)
    model_card(path, {"test_accuracy": accuracy}).save(tmp_path / "README.md")
    loaded = hub.ModelCard.load(tmp_path / "README.md")
    assert _results(loaded) == {("fashion_mnist", "accuracy"): accuracy}
    assert loaded.data.library_name == "skfashion"
    n_params = sum(p.numel() for p in final(model).module_.parameters())
    assert f"SHA-256 `{_sha(path)}`" in loaded.text
    assert f"{n_params:,} parameters" in loaded.text
    assert f"`{type(final(model)).__name__}`" in loaded.text
    if detector:
        threshold = f"{float(load_detector(path).offset_):.4g}"
        assert f"Novelty detector: `energy`, threshold {threshold}." in loaded.text
    else:
        assert "No novelty detector" in loaded.text
    # found beside the model: what serve shows, and export carries
    assert find_card(path).text == loaded.text
    assert load_predictor(path).card.text == loaded.text


def test_every_number_is_the_saved_models(fashion_train, fashion_test, tmp_path):
    """Test accuracy, mixed Fashion-MNIST-C accuracy and the detector's
    AUROC against digits, recomputed from the file, are the card's."""
    from sklearn.pipeline import make_pipeline

    from skfashion import FashionMLP, PixelScaler
    from skfashion.datasets import corrupt_images, make_not_garments
    from skfashion.evaluation import detection_scores

    X, y = fashion_train.data[:600], fashion_train.target[:600]
    X_test, y_test = fashion_test.data[:300], fashion_test.target[:300]
    model = make_pipeline(
        PixelScaler(), FashionMLP(hidden_units=(32,), max_epochs=1, random_state=0)
    ).fit(X[:500], y[:500])
    detector = NoveltyDetector(model, method="energy", random_state=0).fit(
        X[500:], y[500:]
    )
    path = tmp_path / "m.safetensors"
    save_model(model, path, detector=detector)

    saved, saved_detector = load_model(path), load_detector(path)
    mixed = corrupt_images(X_test, "mixed", random_state=0)[0]
    digits = make_not_garments("digits", n_samples=100, random_state=0)
    auroc = detection_scores(
        saved_detector.score_samples(X_test), saved_detector.score_samples(digits)
    )["auroc"]
    evaluation = {
        "test_accuracy": saved.score(X_test, y_test),
        "shift": {
            "mixed_accuracy": float(np.mean(saved.predict(mixed) == y_test)),
            "detectors": {"energy": {"digits": {"auroc": auroc}}},
            "default_detector": "energy",
        },
    }
    model_card(path, evaluation).save(tmp_path / "README.md")
    card = hub.ModelCard.load(tmp_path / "README.md")
    assert _results(card) == {
        ("fashion_mnist", "accuracy"): evaluation["test_accuracy"],
        ("fashion_mnist_c", "accuracy"): evaluation["shift"]["mixed_accuracy"],
        ("digits", "roc_auc"): auroc,
    }
    assert "Novelty detector: `energy`" in card.text
    assert f"AUROC against digits: {auroc:.3f}" in card.text


def test_a_card_cannot_claim_what_the_file_does_not_hold(tmp_path):
    X, y = data_for(False)
    model = make("mlp", max_epochs=1).fit(X, y)
    bare = tmp_path / "bare.safetensors"
    save_model(model, bare)
    claims = {"shift": {"detectors": {"energy": {"digits": {"auroc": 0.9}}}}}
    with pytest.raises(ValueError, match="holds no detector"):
        model_card(bare, claims)
    with_detector = tmp_path / "energy.safetensors"
    detector = NoveltyDetector(model, method="energy", random_state=0).fit(X)
    save_model(model, with_detector, detector=detector)
    with pytest.raises(ValueError, match="holds a 'energy' one"):
        model_card(with_detector, {"shift": {"default_detector": "msp"}})
    model_card(with_detector, claims)  # backed: built


def test_without_huggingface_hub_the_extra_is_named(tmp_path, monkeypatch):
    import sys

    X, y = data_for(False)
    path = tmp_path / "m.safetensors"
    save_model(make("mlp", max_epochs=1).fit(X, y), path)
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ImportError, match=r'pip install "skfashion\[cards\]"'):
        model_card(path)


def test_an_int8_figure_needs_an_int8_graph_of_the_model(tmp_path):
    X, y = data_for(True)
    model = make("mlp", True, max_epochs=1).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_model(model, path)
    export_onnx(model, tmp_path / "model.onnx")
    claims = {"int8": {"test_accuracy": 0.5}}
    with pytest.raises(ValueError, match=r"no int8 graph .* \(none\)"):
        model_card(path, claims)
    with pytest.raises(ValueError, match=r"no int8 graph .* \(model.onnx\)"):
        model_card(path, claims, graphs=[tmp_path / "model.onnx"])
    other = make("mlp", True, max_epochs=1).fit(X, y + 1)  # other classes
    export_onnx(other, tmp_path / "other.onnx")
    with pytest.raises(ValueError, match=r"not exported from this model: .* \[1, 2"):
        model_card(path, graphs=[tmp_path / "other.onnx"])
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    with pytest.raises(ValueError, match="junk.onnx is not an ONNX graph"):
        model_card(path, graphs=[tmp_path / "junk.onnx"])


def test_save_model_writes_its_card_or_nothing(tmp_path):
    X, y = data_for(False)
    model = make("mlp", max_epochs=1).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_model(model, path, card={"test_accuracy": 0.75})
    card = find_card(path)
    assert _results(card) == {("fashion_mnist", "accuracy"): 0.75}
    assert f"SHA-256 `{_sha(path)}`" in card.text
    again = make("mlp", max_epochs=2).fit(X, y)
    save_model(again, path, card=True)  # its own older card: replaced
    assert find_card(path).data.eval_results is None
    assert f"SHA-256 `{_sha(path)}`" in find_card(path).text
    # a claim the file cannot back: neither file is written
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    claims = {"shift": {"detectors": {"energy": {"digits": {"auroc": 0.9}}}}}
    with pytest.raises(ValueError, match="holds no detector"):
        save_model(model, path, card=claims)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    with pytest.raises(TypeError, match="card must be True or a dict"):
        save_model(model, path, card="yes")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # someone else's README.md is never replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("# My notes\n")
    with pytest.raises(ValueError, match="not a model card of model.safetensors"):
        save_model(model, mine / "model.safetensors", card=True)
    assert sorted(p.name for p in mine.iterdir()) == ["README.md"]
    assert (mine / "README.md").read_text() == "# My notes\n"


def test_a_card_is_found_only_beside_its_own_file(tmp_path):
    X, y = data_for(False)
    model = make("mlp", max_epochs=1).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_model(model, path)
    assert find_card(path) is None
    built = find_card(path, build=True)  # the file's details, no numbers
    assert f"SHA-256 `{_sha(path)}`" in built.text
    built.save(tmp_path / "README.md")
    assert find_card(path).text == built.text
    save_model(make("mlp", max_epochs=2).fit(X, y), path)  # other weights
    assert find_card(path) is None
    (tmp_path / "README.md").write_bytes(b"---\n: [\n---\n")  # not YAML
    assert find_card(path) is None
    assert find_card(tmp_path / "no-such.safetensors", build=True) is None
    assert find_card(tmp_path, build=True) is None  # a folder


def test_a_triton_repository_carries_the_card(tmp_path):
    X, y = data_for(True)
    model = make("mlp", True, max_epochs=1).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_model(model, path, card={"test_accuracy": 0.5})
    folder = export_triton(model, tmp_path / "repo", card=find_card(path))
    carried = hub.ModelCard.load(folder / "README.md")
    assert _results(carried) == {("fashion_mnist", "accuracy"): 0.5}
    sha = _sha(folder / "1" / "model.onnx")
    section = carried.text.split("## In this Triton repository\n\n")[1]
    assert section.startswith(f"- `1/model.onnx`: ONNX, float32, SHA-256 `{sha}`.")
    assert f"SHA-256 `{_sha(path)}`" in carried.text  # the weights it came from
    bare = export_triton(model, tmp_path / "repo", name="bare")
    assert not (bare / "README.md").exists()


def test_the_card_says_what_not_to_use_it_for(tmp_path):
    X, y = data_for(False)
    model = make("mlp", max_epochs=1).fit(X, y)
    detector = NoveltyDetector(model, method="energy", random_state=0).fit(X)
    path = tmp_path / "model.safetensors"
    save_model(model, path, detector=detector)
    weak = {
        "test_accuracy": 0.9,
        "recall": {"Shirt": 0.5, "Coat": 0.79, "Bag": 0.97},
        "shift": {
            "mixed_accuracy": 0.4,
            "detectors": {
                "energy": {"digits": {"auroc": 0.7}, "upside_down": {"auroc": 0.95}}
            },
        },
    }
    text = model_card(path, weak).text
    assert (
        "- Not to be relied on for Shirt, Coat: its recall there is below 80 %." in text
    )
    assert (
        "it is right on 40.00 % of them (mixed Fashion-MNIST-C), against 90.00 %"
        in text
    )
    assert "- Its detector does not tell digits from garments (AUROC below 0.9)" in text
    strong = {
        "test_accuracy": 0.9,
        "recall": {"Shirt": 0.85},
        "shift": {
            "mixed_accuracy": 0.85,
            "detectors": {"energy": {"digits": {"auroc": 0.99}}},
        },
    }
    assert "Not " not in model_card(path, strong).text.split("## Intended")[1]
