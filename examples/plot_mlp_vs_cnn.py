"""
==================================
Dense network versus CNN
==================================

The two models of the original report on the same 3,000 training images for 3
epochs. The CNN here is a smaller version of the report's (16/32/64 filters
instead of 128/256/512) so that the example runs in a minute on a CPU; the
full-size comparison is in :ref:`reproducing`.
"""

# %%
import time

import matplotlib.pyplot as plt
from sklearn.pipeline import make_pipeline

from skfashion import FashionCNN, FashionMLP, PixelScaler, fetch_fashion_mnist

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X, y = X[:3000], y[:3000]
X_test, y_test = X_test[:3000], y_test[:3000]

models = {
    "dense (FashionMLP)": FashionMLP(max_epochs=3, random_state=0),
    "convolutional (FashionCNN)": FashionCNN(
        filters=(16, 32, 64), max_epochs=3, lr=1e-3, random_state=0
    ),
}
scores, times = {}, {}
for name, clf in models.items():
    pipe = make_pipeline(PixelScaler(), clf)
    start = time.perf_counter()
    pipe.fit(X, y)
    times[name] = time.perf_counter() - start
    scores[name] = pipe.score(X_test, y_test)
    print(f"{name}: {scores[name]:.3f} in {times[name]:.0f} s")

# %%
fig, ax = plt.subplots(layout="constrained")
ax.barh(list(scores), list(scores.values()), color=["tab:blue", "tab:orange"])
ax.set(xlim=(0.5, 1), xlabel="test accuracy")
for i, (s, t) in enumerate(zip(scores.values(), times.values(), strict=True)):
    ax.text(s + 0.005, i, f"{s:.3f} ({t:.0f} s)", va="center")
