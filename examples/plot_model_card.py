"""
==============================
A model card for a saved model
==============================

A model file holds weights; a person who receives only the file needs to
know what it is, how it was trained, how accurate it is, on what, and where
not to trust it. :func:`~skfashion.save_model` writes that as a Hugging
Face model card (``README.md`` beside the file, the ``cards`` extra): a
YAML header whose ``model-index`` holds the numbers, and a readable body.

Here a small :class:`~skfashion.FashionMLP` (5,000 images, 3 epochs: a
demonstration, not a result) with an energy novelty detector, its numbers
measured on the test set, under shift and against digits, and its int8
ONNX graph.
"""

# %%
# Train, measure, save
# --------------------
# Every number given to the card is measured here; the card refuses a
# number the file cannot back (a detector's AUROC for a model saved without
# one, an int8 accuracy without an int8 graph).
import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline

from skfashion import FashionMLP, PixelScaler, fetch_fashion_mnist, save_model
from skfashion.datasets import corrupt_images, make_not_garments
from skfashion.evaluation import detection_scores
from skfashion.io import OnnxModel, export_onnx, model_card, quantize_onnx
from skfashion.novelty import NoveltyDetector

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_test, y_test = X_test[:2000], y_test[:2000]

model = make_pipeline(
    PixelScaler(), FashionMLP(hidden_units=(256,), max_epochs=3, random_state=0)
)
model.fit(X[:5000], y[:5000])
detector = NoveltyDetector(model, method="energy", random_state=0)
detector.fit(X[5000:7000])

mixed = corrupt_images(X_test, "mixed", random_state=0)[0]
digits = make_not_garments("digits", n_samples=500, random_state=0)
auroc = detection_scores(detector.score_samples(X_test), detector.score_samples(digits))
evaluation = {
    "test_accuracy": model.score(X_test, y_test),
    "shift": {
        "mixed_accuracy": float(np.mean(model.predict(mixed) == y_test)),
        "detectors": {"energy": {"digits": {"auroc": auroc["auroc"]}}},
        "default_detector": "energy",
    },
}

folder = Path(tempfile.mkdtemp())
path = folder / "model.safetensors"
save_model(model, path, detector=detector, card=evaluation)
sorted(os.listdir(folder))

# %%
# Its int8 graph, on the card too
# -------------------------------
# ``graphs=`` names each exported graph with its SHA-256 and precision;
# an int8 figure needs an int8 graph among them.
graphs = [folder / "model.onnx", folder / "model-int8.onnx"]
export_onnx(model, graphs[0], detector=detector)
quantize_onnx(graphs[0], graphs[1], X[:500])
int8 = OnnxModel(graphs[1])
int8_accuracy = np.mean(int8.classes_[int8.predict_proba(X_test).argmax(1)] == y_test)
evaluation["int8"] = {"test_accuracy": float(int8_accuracy)}
card = model_card(path, evaluation, graphs=graphs)
card.save(folder / "README.md")

# %%
# The card
# --------
# ``huggingface_hub.ModelCard.load`` parses it back; the Hugging Face Hub
# shows its ``model-index`` as a table. ``skfashion serve`` shows it under
# "About this model" and answers it at ``GET /card``; ``skfashion export``
# carries it into a Triton repository.
print(card.content)

# %%
# Its numbers, as the Hub reads them
# ----------------------------------
import matplotlib.pyplot as plt
from huggingface_hub import ModelCard

results = ModelCard.load(folder / "README.md").data.eval_results
fig, ax = plt.subplots(figsize=(6, 2.2))
names = [f"{r.metric_name or r.metric_type}\n{r.dataset_name}" for r in results]
ax.barh(names, [r.metric_value for r in results])
ax.set_xlim(0, 1)
ax.invert_yaxis()
ax.tick_params(labelsize=7)
ax.set_title("model-index of the card", fontsize=9)
fig.tight_layout()
