"""
=================================================
Tuning the learning rate and the architecture
=================================================

:class:`~sklearn.model_selection.GridSearchCV` tunes a skfashion pipeline
like any other: here the learning rate and the width of the dense network's
hidden layers. The internal validation split is switched off
(``validation_split=None``) because the search does its own
cross-validation. 2,000 images, 2 epochs and 2 folds keep it quick.
"""

# %%
import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skfashion import FashionMLP, PixelScaler, fetch_fashion_mnist

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X, y = X[:2000], y[:2000]

pipe = make_pipeline(
    PixelScaler(),
    FashionMLP(max_epochs=2, validation_split=None, random_state=0),
)
grid = {
    "fashionmlp__lr": [1e-4, 1e-3],
    "fashionmlp__hidden_units": [(256,), (1024, 512, 256)],
}
search = GridSearchCV(pipe, grid, cv=2)
search.fit(X, y)

# %%
# The results, best first
# -----------------------
results = pd.DataFrame(search.cv_results_)
columns = [
    "param_fashionmlp__lr",
    "param_fashionmlp__hidden_units",
    "mean_test_score",
    "mean_fit_time",
]
print(results[columns].sort_values("mean_test_score", ascending=False))
print("best:", search.best_params_)

# %%
ax = results.pivot_table(
    index="param_fashionmlp__lr",
    columns="param_fashionmlp__hidden_units",
    values="mean_test_score",
).plot.bar(rot=0)
ax.set(ylabel="cross-validated accuracy", xlabel="learning rate", ylim=(0.5, 1))
