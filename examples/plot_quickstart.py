"""
===========
Quick start
===========

Load Fashion-MNIST, put a :class:`~skfashion.PixelScaler` and a
:class:`~skfashion.FashionMLP` in a pipeline, fit, predict and score — the
same calls as any scikit-learn classifier. To run in a minute on a CPU, the
model trains on 5,000 images for 3 epochs (the full data and 10 epochs give
about 89 %).
"""

# %%
# Load the data
# -------------
import matplotlib.pyplot as plt
from sklearn.pipeline import make_pipeline

from skfashion import CLASS_NAMES, FashionMLP, PixelScaler, fetch_fashion_mnist

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X, y = X[:5000], y[:5000]
print(X.shape, X.dtype, y[:10])

# %%
# Fit a pipeline
# --------------
model = make_pipeline(PixelScaler(), FashionMLP(max_epochs=3, random_state=0))
model.fit(X, y)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# Look at some predictions
# ------------------------
# ``predict`` returns labels, ``predict_proba`` the softmax probabilities.
proba = model.predict_proba(X_test[:8])
fig, axes = plt.subplots(2, 4, figsize=(9, 5), layout="constrained")
for ax, image, p, truth in zip(
    axes.ravel(), X_test[:8], proba, y_test[:8], strict=True
):
    ax.imshow(image.reshape(28, 28), cmap="gray")
    guess = p.argmax()
    color = "tab:green" if guess == truth else "tab:red"
    ax.set_title(f"{CLASS_NAMES[guess]}\n{100 * p[guess]:.0f} %", color=color)
    ax.axis("off")
plt.show()
