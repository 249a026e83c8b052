"""
=====================================
Export a pipeline to ONNX and run it
=====================================

:func:`~skfashion.export_onnx` writes a fitted pipeline -- here
:class:`~skfashion.PixelScaler` and a small :class:`~skfashion.FashionMLP` --
as one ONNX file. onnxruntime then runs it without PyTorch: raw ``uint8``
pixels in, the class names and their probabilities out.
"""

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from sklearn.pipeline import make_pipeline

from skfashion import (
    CLASS_NAMES,
    FashionMLP,
    PixelScaler,
    export_onnx,
    fetch_fashion_mnist,
)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
labels = np.asarray(CLASS_NAMES)[y[:5000]]  # string labels stay strings

model = make_pipeline(
    PixelScaler(), FashionMLP(hidden_units=(256,), max_epochs=3, random_state=0)
)
model.fit(X[:5000], labels)

path = os.path.join(tempfile.mkdtemp(), "model.onnx")
export_onnx(model, path)
print(f"{os.path.getsize(path) / 1e6:.1f} MB")

# %%
# onnxruntime gives PyTorch's answers
# -----------------------------------
# The graph computes in float32. Where PyTorch predicts in bfloat16 (on CPUs
# with bfloat16 instructions, ``precision="auto"``), a close call may go the
# other way; a model in float32 gives the same labels.
session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
label, proba = session.run(["label", "probabilities"], {"input": X_test[:1000]})
same = np.mean(label == model.predict(X_test[:1000]))
print(f"same label as PyTorch on {same:.1%} of 1,000 test images")
print(session.get_modelmeta().custom_metadata_map["classes"])

# %%
fig, axes = plt.subplots(1, 6, figsize=(9, 2))
top = proba.max(1)
for ax, image, name, p in zip(axes, X_test[:6], label[:6], top[:6], strict=True):
    ax.imshow(image.reshape(28, 28), cmap="gray_r")
    ax.set_title(f"{name}\n{p:.0%}", fontsize=8)
    ax.axis("off")
