"""Model cards: built from a model file and its numbers, parsed back by
huggingface_hub, every number recomputed from the saved model."""

import hashlib

import numpy as np
import pytest
from cases import CASE_IDS, CASES, data_for, final, make

hub = pytest.importorskip("huggingface_hub")

from skfashion import load_model, save_model  # noqa: E402
from skfashion.io import load_detector, model_card  # noqa: E402
from skfashion.novelty import NoveltyDetector  # noqa: E402


def _results(card):
    return {
        (r.dataset_type, r.metric_type): r.metric_value for r in card.data.eval_results
    }


@pytest.mark.parametrize(("name", "pipeline"), CASES, ids=CASE_IDS)
def test_card_of_every_classifier_parses_back(name, pipeline, tmp_path):
    X, y = data_for(pipeline)
    model = make(name, pipeline, max_epochs=1).fit(X, y)
    path = tmp_path / "m.safetensors"
    save_model(model, path)
    accuracy = load_model(path).score(X, y)
    card = model_card(path, {"test_accuracy": accuracy, "seeds": 1})
    card.save(tmp_path / "README.md")
    loaded = hub.ModelCard.load(tmp_path / "README.md")
    assert _results(loaded) == {("fashion_mnist", "accuracy"): accuracy}
    assert loaded.data.library_name == "skfashion"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    n_params = sum(p.numel() for p in final(model).module_.parameters())
    assert f"SHA-256 `{sha}`" in loaded.text
    assert f"{n_params:,} parameters" in loaded.text
    assert f"`{type(final(model)).__name__}`" in loaded.text
    assert "No novelty detector" in loaded.text


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
