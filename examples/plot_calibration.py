"""
====================================
Is the confidence right? Calibration
====================================

A classifier is *calibrated* when its 90 %-confident answers are right 90 %
of the time. :class:`~skfashion.FastFashionCNN` trains with label smoothing:
its targets are 82 % on the true class, not 100 %, so the softmax of its
logits is never more than 82 % sure -- accurate and *under*-confident. Its
``predict_proba`` maps the softmax back through the smoothing (skorch's
``predict_nonlinearity="auto"``); the reliability diagrams show both and the
expected calibration error (ECE, 15 bins) measures them.

Temperature scaling then fine-tunes the confidence without changing a single
prediction: one number divides the logits, fitted on images the model did
not train on. scikit-learn does it for a fitted model:
``CalibratedClassifierCV(FrozenEstimator(model), method="temperature")``.
To run in a minute, the model here trains 2 epochs on 10,000 images and the
temperature is fitted on 5,000 validation images (the default fit on all the
data: see :ref:`the results <reproducing>`).
"""

# %%
# A model and its validation images
# ---------------------------------
from functools import partial

import matplotlib.pyplot as plt
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline

from skfashion import (
    FastFashionCNN,
    PixelScaler,
    expected_calibration_error,
    fetch_fashion_mnist,
    plot_reliability,
)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_valid, y_valid = X[:5000], y[:5000]  # the report's validation images
X_train, y_train = X[5000:15000], y[5000:15000]

model = make_pipeline(
    PixelScaler(),
    FastFashionCNN(max_epochs=2, widths=(32, 64, 128), random_state=0),
)
model.fit(X_train, y_train)
proba = model.predict_proba(X_test)
print(f"test accuracy {model.score(X_test, y_test):.3f}")
print(f"ECE {expected_calibration_error(y_test, proba):.3f}")

# %%
# The plain softmax, for comparison
# ---------------------------------
# ``predict_nonlinearity`` (skorch's parameter) replaces the default.
model.set_params(fastfashioncnn__predict_nonlinearity=partial(torch.softmax, dim=-1))
softmax = model.predict_proba(X_test)
model.set_params(fastfashioncnn__predict_nonlinearity="auto")
print(f"softmax: ECE {expected_calibration_error(y_test, softmax):.3f}")
print(f"same predictions: {(softmax.argmax(1) == proba.argmax(1)).all()}")

# %%
# Temperature scaling on the validation images
# --------------------------------------------
# ``FrozenEstimator`` keeps the fitted model as it is: ``fit`` only finds the
# temperature. The predictions are the same; the confidence changes.
scaled = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
scaled.fit(X_valid, y_valid)
scaled_proba = scaled.predict_proba(X_test)
beta = scaled.calibrated_classifiers_[0].calibrators[0].beta_
print(f"temperature {1 / beta:.2f}")
print(f"same predictions: {(scaled_proba.argmax(1) == proba.argmax(1)).all()}")
print(f"ECE after scaling {expected_calibration_error(y_test, scaled_proba):.3f}")

# %%
# Reliability diagrams
# --------------------
# Bars above the diagonal: the model is right more often than it says.
fig, axes = plt.subplots(1, 3, figsize=(13, 4.5), layout="constrained")
plot_reliability(y_test, softmax, ax=axes[0], label="softmax")
plot_reliability(y_test, proba, ax=axes[1], label="predict_proba")
plot_reliability(y_test, scaled_proba, ax=axes[2], label="temperature-scaled")
axes[0].set_title("the softmax of a label-smoothed net")
axes[1].set_title("predict_proba: smoothing undone")
axes[2].set_title("then temperature scaling")
plt.show()
