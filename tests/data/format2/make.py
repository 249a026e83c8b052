"""Write the format-2 model files that ``tests/io/test_persistence.py`` loads.

Run once with skfashion 0.1.0 (commit a8f2978, before the package moved its
classes into public subpackages): ``python tests/data/format2/make.py``. The
files name classes by their old private paths (``skfashion._modules.MLPModule``,
``skfashion._training.ArrayLoader``, ...); later versions must still load them
and predict the labels saved beside them. Kept as a record of how the files
were made: it imports the 0.1.0 layout and will not run on later versions.
"""

from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline
from skorch.callbacks import EarlyStopping

from skfashion import (
    FashionCNN,
    FashionMLP,
    FastFashionCNN,
    PixelScaler,
    save_model,
)
from skfashion._training import Lookahead

HERE = Path(__file__).parent
SIDE = 6


def blobs(n_per_class=20, seed=0):
    rng = np.random.RandomState(seed)
    y = np.repeat(np.array(["Bag", "Coat", "Shirt"]), n_per_class)
    X = rng.uniform(0, 0.3, size=(len(y), SIDE * SIDE))
    band = SIDE * SIDE // 3
    for k in range(3):
        X[np.arange(len(y)) // n_per_class == k, k * band : (k + 1) * band] += 0.7
    return (X * 255).round().astype(np.uint8), y


def main():
    X, y = blobs()
    common = {"max_epochs": 3, "batch_size": 16, "random_state": 0}
    models = {
        "mlp": FashionMLP(
            hidden_units=(16,),
            lr=1e-2,
            callbacks=[Lookahead(), EarlyStopping(patience=5)],
            **common,
        ),
        "cnn": FashionCNN(
            image_shape=(SIDE, SIDE),
            filters=(4, 8),
            kernel_size=3,
            dense_units=(8,),
            lr=1e-2,
            **common,
        ),
        "fast": FastFashionCNN(
            image_shape=(SIDE, SIDE),
            widths=(4, 8),
            crop_padding=0,
            lr=0.4,
            norm_bias_lr=8.0,
            **common,
        ),
    }
    for name, clf in models.items():
        pipe = make_pipeline(PixelScaler(), clf).fit(X, y)
        save_model(pipe, HERE / f"{name}.safetensors")
        np.savez(
            HERE / f"{name}-expected.npz",
            X=X,
            labels=pipe.predict(X).astype(str),
            proba=pipe.predict_proba(X),
        )


if __name__ == "__main__":
    main()
