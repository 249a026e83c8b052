"""
=====================================
Training curves and early stopping
=====================================

Every epoch, the estimator records the training and validation loss and
accuracy in ``history_``; :func:`~skfashion.plot_history` draws them as the
original report's Figures 1 and 3 did. skorch's
:class:`~skorch.callbacks.EarlyStopping` stops when the validation loss stops
improving.
"""

# %%
from skorch.callbacks import EarlyStopping

from skfashion import FashionMLP, PixelScaler, fetch_fashion_mnist, plot_history

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X = PixelScaler().fit_transform(X[:4000])
y = y[:4000]

clf = FashionMLP(
    lr=1e-3,
    max_epochs=30,
    validation_split=0.2,
    random_state=0,
    callbacks=[EarlyStopping(monitor="valid_loss", patience=3)],
)
clf.fit(X, y)
print(f"stopped after {len(clf.history_)} of 30 epochs")
print("validation accuracy per epoch:", clf.history_[:, "valid_acc"])

# %%
axes = plot_history(clf)
axes[0].figure.suptitle("FashionMLP with early stopping")
