"""
===============================================
Confusion matrix and classification report
===============================================

Evaluate with scikit-learn's own metrics: a per-class report and a confusion
matrix with the class names (:func:`~skfashion.plot_confusion_matrix` wraps
:class:`~sklearn.metrics.ConfusionMatrixDisplay`). Like the original report's
dense network, the model confuses shirts with T-shirts, pullovers and coats.
"""

# %%
from sklearn.metrics import classification_report
from sklearn.pipeline import make_pipeline

from skfashion import (
    CLASS_NAMES,
    FashionMLP,
    PixelScaler,
    fetch_fashion_mnist,
    plot_confusion_matrix,
)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
model = make_pipeline(PixelScaler(), FashionMLP(max_epochs=3, random_state=0))
model.fit(X[:6000], y[:6000])
y_pred = model.predict(X_test)

print(classification_report(y_test, y_pred, target_names=CLASS_NAMES))

# %%
disp = plot_confusion_matrix(y_test, y_pred)
disp.ax_.set_title("FashionMLP, 6,000 training images")

# %%
# Normalized by row, the diagonal is each class's recall.
disp = plot_confusion_matrix(y_test, y_pred, normalize="true", values_format=".2f")
