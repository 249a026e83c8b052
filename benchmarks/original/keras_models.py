"""The original report's two Keras models, run with its protocol.

A standalone script for the Keras virtual environment that
``python -m benchmarks original`` creates: it imports TensorFlow, Keras and
NumPy only -- never skfashion, and skfashion never imports it.

The models are the report's: the layers, activations, L2 penalties,
optimizer, epochs and batch size of its appendix, with only the API names
brought to Keras 3 (an ``Input`` layer instead of ``input_shape=``, and
``argmax`` of ``predict`` instead of ``predict_classes``). The protocol is
the report's: the first 5,000 training images validate, the other 55,000
train, pixels are divided by 255, 10 epochs in batches of 32, and the test
set is scored once at the end.

Usage: python keras_models.py DATA.npz MODEL SEED OUT.json [--time-only]

``--time-only`` trains 45 steps (after 5 to warm up) and records the measured
time per step and what a whole run would take, instead of running it.
"""

import json
import os
import platform
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers, regularizers

N_VALID = 5000
EPOCHS = 10
BATCH_SIZE = 32
LEARNING_RATE = 1e-4
L2 = 1e-4


def dense_net():
    """Flatten -> [Dense (L2) -> LeakyReLU(0.1) -> BatchNorm] x (1024, 512,
    256) -> Dense 10 softmax."""
    model = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten()])
    for units in (1024, 512, 256):
        model.add(layers.Dense(units, kernel_regularizer=regularizers.l2(L2)))
        model.add(layers.LeakyReLU(negative_slope=0.1))
        model.add(layers.BatchNormalization())
    model.add(layers.Dense(10, activation="softmax"))
    return model


def cnn():
    """Three 5x5 "same" tanh convolutions (128, 256, 512 filters), max-pooling
    after the first two, then Dense 128 -> LeakyReLU -> Dense 64 -> LeakyReLU
    -> Dense 10 softmax, L2 on the dense kernels."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(128, 5, padding="same", activation="tanh"),
            layers.MaxPooling2D(2),
            layers.Conv2D(256, 5, padding="same", activation="tanh"),
            layers.MaxPooling2D(2),
            layers.Conv2D(512, 5, padding="same", activation="tanh"),
            layers.Flatten(),
            layers.Dense(128, kernel_regularizer=regularizers.l2(L2)),
            layers.LeakyReLU(negative_slope=0.1),
            layers.Dense(64, kernel_regularizer=regularizers.l2(L2)),
            layers.LeakyReLU(negative_slope=0.1),
            layers.Dense(
                10, activation="softmax", kernel_regularizer=regularizers.l2(L2)
            ),
        ]
    )


MODELS = {"mlp": dense_net, "cnn": cnn}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_only(model, X, y, name, seed, out_path):
    """Seconds per training step, and the hours of a whole run."""
    steps = 45
    model.fit(
        X[: 5 * BATCH_SIZE], y[: 5 * BATCH_SIZE], batch_size=BATCH_SIZE, verbose=0
    )
    start = time.perf_counter()
    model.fit(
        X[: steps * BATCH_SIZE],
        y[: steps * BATCH_SIZE],
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    per_step = (time.perf_counter() - start) / steps
    steps_per_epoch = -(-(len(X) - N_VALID) // BATCH_SIZE)
    record = {
        "model": name,
        "seed": seed,
        "status": "timed only: a whole run was too long for this machine",
        "seconds_per_step": round(per_step, 4),
        "images_per_second": round(BATCH_SIZE / per_step, 1),
        "estimated_hours_per_run": round(per_step * steps_per_epoch * EPOCHS / 3600, 2),
        **_versions(),
    }
    with open(out_path, "w") as f:
        json.dump(record, f, indent=2)


def _versions():
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "cpu_cores": os.cpu_count(),
        "gpu": [d.name for d in tf.config.list_physical_devices("GPU")],
    }


def main(data_path, name, seed, out_path, *flags):
    seed = int(seed)
    data = np.load(data_path)
    X, y = data["X"] / 255.0, data["y"]
    X_test, y_test = data["X_test"] / 255.0, data["y_test"]
    if name == "cnn":
        X, X_test = X[..., None], X_test[..., None]
    keras.utils.set_random_seed(seed)
    model = MODELS[name]()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    if "--time-only" in flags:
        return time_only(model, X, y, name, seed, out_path)
    start = time.perf_counter()
    history = model.fit(
        X[N_VALID:],
        y[N_VALID:],
        validation_data=(X[:N_VALID], y[:N_VALID]),
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=2,
    )
    train_seconds = time.perf_counter() - start
    predicted = np.argmax(model.predict(X_test, verbose=0), axis=1)
    record = {
        "model": name,
        "seed": seed,
        "test_accuracy": float(np.mean(predicted == y_test)),
        "valid_accuracy": float(history.history["val_accuracy"][-1]),
        "valid_accuracy_per_epoch": [float(a) for a in history.history["val_accuracy"]],
        "train_seconds": round(train_seconds, 1),
        **_versions(),
    }
    with open(out_path, "w") as f:
        json.dump(record, f, indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:])
