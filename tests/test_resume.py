"""Checkpoints: a fit killed after epoch k resumes to the same weights."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from skfashion import FashionMLP

PARAMS = {
    "hidden_units": (16,),
    "lr": 1e-2,
    "max_epochs": 4,
    "batch_size": 16,
    "random_state": 3,
}


@pytest.fixture
def data(tmp_path):
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 40)
    X = rng.uniform(size=(120, 20)).astype(np.float32)
    X[np.arange(120), y] += 1
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return X, y


def _weights(clf):
    return {k: v.clone() for k, v in clf.module_.state_dict().items()}


@pytest.mark.parametrize("validation_split", [0.25, None])
def test_killed_fit_resumes_to_identical_weights(data, tmp_path, validation_split):
    X, y = data
    ckpt = tmp_path / "ckpt"
    script = textwrap.dedent(f"""
        import os, signal
        import numpy as np
        from skorch.callbacks import Callback
        from skfashion import FashionMLP

        class KillAfterEpoch2(Callback):
            def on_epoch_end(self, net, **kwargs):
                if len(net.history) == 2:
                    os.kill(os.getpid(), signal.SIGKILL)

        X = np.load({str(tmp_path / "X.npy")!r})
        y = np.load({str(tmp_path / "y.npy")!r})
        FashionMLP(**{PARAMS!r}, validation_split={validation_split!r},
                   checkpoint_dir={str(ckpt)!r},
                   callbacks=[KillAfterEpoch2()]).fit(X, y)
    """)
    # one thread on both sides: multi-threaded reductions may group sums
    # differently in another process, which would blur a bit-exact comparison
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=300, env=env
    )
    assert done.returncode == -9, done.stderr.decode()
    files = list(ckpt.iterdir())
    assert len(files) == 1 and files[0].suffix == ".pt"

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        resumed = FashionMLP(
            **PARAMS, validation_split=validation_split, checkpoint_dir=ckpt
        ).fit(X, y)
        straight = FashionMLP(**PARAMS, validation_split=validation_split).fit(X, y)
    finally:
        torch.set_num_threads(threads)
    assert len(resumed.history_) == 4
    assert list(ckpt.iterdir()) == []  # completed: the checkpoint is gone
    a, b = _weights(resumed), _weights(straight)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    np.testing.assert_array_equal(resumed.predict_proba(X), straight.predict_proba(X))
    if validation_split:
        np.testing.assert_array_equal(
            resumed.history_[:, "valid_acc"], straight.history_[:, "valid_acc"]
        )


def test_checkpoints_are_per_fit(data, tmp_path):
    X, y = data
    a = FashionMLP(**PARAMS, checkpoint_dir=tmp_path)
    b = FashionMLP(**{**PARAMS, "lr": 2e-2}, checkpoint_dir=tmp_path)
    # different parameters or data: different files in the same folder
    assert a._checkpoint_file(X, y) != b._checkpoint_file(X, y)
    assert a._checkpoint_file(X, y) != a._checkpoint_file(X[:60], y[:60])
    assert a._checkpoint_file(X, y) == FashionMLP(
        **PARAMS, checkpoint_dir=tmp_path, verbose=1
    )._checkpoint_file(X, y)


def test_corrupt_checkpoint_warns_and_starts_over(data, tmp_path):
    X, y = data
    clf = FashionMLP(**PARAMS, checkpoint_dir=tmp_path)
    path = clf._checkpoint_file(X, y)
    path.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable checkpoint"):
        clf.fit(X, y)
    assert len(clf.history_) == 4 and not path.exists()


def test_ctrl_c_keeps_model_usable_and_checkpoint(data, tmp_path):
    from skorch.callbacks import Callback

    class CtrlCAfterEpoch1(Callback):  # Ctrl-C during epoch 2's first batch
        def on_batch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    X, y = data
    ckpt = tmp_path / "ckpt"
    clf = FashionMLP(**PARAMS, checkpoint_dir=ckpt, callbacks=[CtrlCAfterEpoch1()])
    clf.fit(X, y)  # stops cleanly
    assert len(clf.history_) == 2  # stopped early in epoch 2
    assert clf.predict(X).shape == (120,)
    assert len(list(ckpt.iterdir())) == 1  # kept, to resume
