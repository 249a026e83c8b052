"""Checkpoints: a fit killed after epoch k resumes to the same weights, for
every estimator (FastFashionCNN's one-cycle schedule included)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from cases import NAMES, TINY, TRAINING, blobs, make
from skorch.callbacks import Callback, EarlyStopping

from skfashion.callbacks import checkpoint_path

EPOCHS = 4


class CountEpochs(Callback):
    """How many epochs this process trained."""

    def on_train_begin(self, net, **kwargs):
        self.trained_ = 0

    def on_epoch_end(self, net, **kwargs):
        self.trained_ += 1


def _weights(clf):
    return {k: v.clone() for k, v in clf.module_.state_dict().items()}


def _epochs(history):
    """The history without the wall-clock durations."""
    return [
        {k: v for k, v in row.items() if k not in ("dur", "batches")} for row in history
    ]


@pytest.mark.parametrize("validation_split", [0.25, None])
@pytest.mark.parametrize("name", NAMES)
def test_killed_fit_resumes_to_identical_weights(name, validation_split, tmp_path):
    X, y = blobs()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    ckpt = tmp_path / "ckpt"
    params = {
        **TRAINING,
        **TINY[name],
        "max_epochs": EPOCHS,
        "validation_split": validation_split,
        "random_state": None,  # the checkpoint must keep the split and RNG
    }
    script = textwrap.dedent(f"""
        import os, signal
        import numpy as np
        from skorch.callbacks import Callback
        from skfashion.neural_network import CLASSIFIERS

        class KillAfterEpoch2(Callback):  # when epoch 3 begins
            def on_epoch_begin(self, net, **kwargs):
                if len(net.history) == 3:
                    os.kill(os.getpid(), signal.SIGKILL)

        X = np.load({str(tmp_path / "X.npy")!r})
        y = np.load({str(tmp_path / "y.npy")!r})
        np.random.seed(123)  # random_state=None draws the fit's seed from here
        CLASSIFIERS[{name!r}](**{params!r}, checkpoint_dir={str(ckpt)!r},
                             callbacks=[KillAfterEpoch2()]).fit(X, y)
    """)
    # one thread on both sides: multi-threaded reductions may group sums
    # differently in another process, which would blur a bit-exact comparison
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=300, env=env
    )
    assert done.returncode == -9, done.stderr.decode()
    [state_file] = ckpt.iterdir()
    state = torch.load(state_file, weights_only=True)
    assert len(json.loads(state["fitted"])["history"]) == 2

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        counter = CountEpochs()
        np.random.seed(999)  # another seed: the checkpoint's state must win
        resumed = make(name, **params, checkpoint_dir=ckpt, callbacks=[counter])
        resumed.fit(X, y)
        np.random.seed(123)  # an uninterrupted fit with the killed one's seed
        straight = make(name, **params).fit(X, y)
    finally:
        torch.set_num_threads(threads)
    assert counter.trained_ == EPOCHS - 2  # only the remaining epochs
    assert len(resumed.history_) == EPOCHS
    assert list(ckpt.iterdir()) == []  # finished: the checkpoint is gone
    a, b = _weights(resumed), _weights(straight)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    np.testing.assert_array_equal(resumed.predict_proba(X), straight.predict_proba(X))
    assert _epochs(resumed.history_) == _epochs(straight.history_)


class StopAtEpoch3(Callback):
    """A stopping callback of one's own: it says so in ``stopped_early_``."""

    def on_epoch_end(self, net, **kwargs):
        self.stopped_early_ = len(net.history) == 3
        if self.stopped_early_:
            raise KeyboardInterrupt


@pytest.mark.parametrize("stopper", ["EarlyStopping", "stopped_early_"])
@pytest.mark.parametrize("name", NAMES)
def test_early_stop_is_a_finished_fit(name, stopper, tmp_path):
    X, y = blobs()

    def fit():
        stop = (
            EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
            if stopper == "EarlyStopping"
            else StopAtEpoch3()
        )
        counter = CountEpochs()
        clf = make(
            name, max_epochs=10, checkpoint_dir=tmp_path, callbacks=[counter, stop]
        )
        return clf.fit(X, y), counter

    first, counter = fit()
    assert 1 < len(first.history_) < 10  # stopped early
    assert list(tmp_path.iterdir()) == []  # finished: nothing to resume
    again, counter = fit()
    assert counter.trained_ == len(first.history_)  # trained, not resumed
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_checkpoints_are_per_fit(tmp_path):
    X, y = blobs()
    a = make("mlp", checkpoint_dir=tmp_path)
    b = make("mlp", checkpoint_dir=tmp_path, lr=2e-2)
    # different parameters or data: different files in the same folder
    assert checkpoint_path(tmp_path, a, X, y) != checkpoint_path(tmp_path, b, X, y)
    assert checkpoint_path(tmp_path, a, X, y) != checkpoint_path(
        tmp_path, a, X[:60], y[:60]
    )
    weighted = {"X": X, "sample_weight": np.linspace(1, 2, len(y))}
    assert checkpoint_path(tmp_path, a, X, y) != checkpoint_path(
        tmp_path, a, weighted, y
    )
    # display settings do not matter
    assert checkpoint_path(tmp_path, a, X, y) == checkpoint_path(
        tmp_path, make("mlp", checkpoint_dir=tmp_path, verbose=1), X, y
    )


def test_corrupt_checkpoint_warns_and_starts_over(tmp_path):
    X, y = blobs()
    clf = make("mlp", checkpoint_dir=tmp_path)
    path = checkpoint_path(tmp_path, clf, X, y)
    path.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable checkpoint"):
        clf.fit(X, y)
    assert len(clf.history_) == TRAINING["max_epochs"] and not path.exists()


@pytest.mark.parametrize("epoch", [2, TRAINING["max_epochs"]], ids=["2", "last"])
def test_ctrl_c_keeps_model_usable_and_checkpoint(tmp_path, epoch):
    """Ctrl-C in an epoch's first batch -- the last epoch's too -- keeps the
    checkpoint of the epochs before it."""

    class CtrlC(Callback):
        def on_batch_end(self, net, **kwargs):
            if len(net.history) == epoch:
                raise KeyboardInterrupt

    X, y = blobs()
    ckpt = tmp_path / "ckpt"
    clf = make("mlp", checkpoint_dir=ckpt, callbacks=[CtrlC()]).fit(X, y)
    assert len(clf.history_) == epoch  # stopped in that epoch
    assert clf.predict(X).shape == (120,)
    assert len(list(ckpt.iterdir())) == 1  # kept, to resume from the one before
    counter = CountEpochs()
    make("mlp", checkpoint_dir=ckpt, callbacks=[counter]).fit(X, y)
    assert counter.trained_ == TRAINING["max_epochs"] - epoch + 1
    assert list(ckpt.iterdir()) == []


def test_the_callback_owns_its_folder(tmp_path):
    """checkpoint_dir configures the resume callback, which can also be set
    directly; the net's parameter is not what the callback reads."""
    X, y = blobs()
    clf = make("mlp", callbacks__resume__dirname=str(tmp_path), callbacks=[Kill2()])
    with pytest.raises(RuntimeError, match="killed"):
        clf.fit(X, y)
    assert clf.checkpoint_dir is None and len(list(tmp_path.iterdir())) == 1
    resumed = make("mlp", checkpoint_dir=tmp_path).fit(X, y)
    assert len(resumed.history_) == TRAINING["max_epochs"]
    assert list(tmp_path.iterdir()) == []


class Kill2(Callback):
    """A crash after the second epoch's checkpoint (the fit raises)."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise RuntimeError("killed")
