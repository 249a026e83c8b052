"""
=================================================
A pruned search: stop poor candidates early
=================================================

A grid search trains every candidate for every epoch. Optuna's
``OptunaSearchCV`` with ``enable_pruning=True`` trains each candidate one
epoch at a time (skfashion's ``partial_fit`` is one epoch, as in
scikit-learn's incremental learners) and lets a *pruner* stop the candidates
that fall behind, here successive halving. A complete trial has trained
``max_epochs`` epochs, exactly what ``fit`` trains, so the best candidate is
refit by ``fit`` for the same epochs its score was measured at.

``partial_fit`` has no pipeline, so the pixels are scaled first with
:class:`~skfashion.PixelScaler`. 3,000 images, 4 epochs and 2 folds keep it
quick; ``skfashion tune`` runs the same kind of search on the whole training
set (see :ref:`tuning_at_scale`).
"""

# %%
import warnings

import matplotlib.pyplot as plt
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna_integration import OptunaSearchCV
from sklearn.model_selection import StratifiedKFold

from skfashion import FashionMLP, PixelScaler, fetch_fashion_mnist

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
# optuna-integration 5.0 still calls a module Optuna 4.9 deprecated
warnings.filterwarnings("ignore", message=".*optuna.terminator", category=FutureWarning)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X, y = PixelScaler().fit_transform(X[:3000]), y[:3000]

study = optuna.create_study(
    direction="maximize",
    sampler=optuna.samplers.TPESampler(seed=0),
    pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
)
search = OptunaSearchCV(
    FashionMLP(max_epochs=4, validation_split=None, random_state=0),
    {
        "lr": FloatDistribution(3e-5, 3e-2, log=True),
        "batch_size": CategoricalDistribution([32, 128]),
    },
    cv=StratifiedKFold(2),
    enable_pruning=True,
    max_iter=4,  # = max_epochs: a complete trial trains what fit trains
    n_trials=12,
    study=study,
    random_state=0,
)
search.fit(X, y)
print("best:", search.best_params_, f"CV accuracy {search.best_score_:.3f}")
print("refit for", len(search.best_estimator_.history_), "epochs")

# %%
# Every trial's learning curve
# ----------------------------
# Pruned trials (grey) stopped after one or three epochs; the complete ones
# trained all four. Most of the search's time went to the promising ones.
fig, ax = plt.subplots(figsize=(6, 4))
for trial in search.trials_:
    epochs = [step + 1 for step in trial.intermediate_values]
    scores = list(trial.intermediate_values.values())
    pruned = trial.state == optuna.trial.TrialState.PRUNED
    ax.plot(epochs, scores, "-o", ms=3, color="0.65" if pruned else None)
ax.set_xlabel("epochs trained")
ax.set_ylabel("cross-validated accuracy")
ax.set_title("Pruned (grey) and complete trials")
states = [t.state.name for t in search.trials_]
print({s: states.count(s) for s in set(states)})
