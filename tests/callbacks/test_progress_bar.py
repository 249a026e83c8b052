"""ProgressBar counts every batch of every estimator exactly."""

import pytest
from cases import (
    CASE_IDS,
    CASES,
    data_for,
    final,
    make,
)

from skfashion.callbacks import ProgressBar


# ------------------------------------------------------------ progress bar
class _RecordingBar(ProgressBar):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("bar", [self.pbar_.total, self.pbar_.n])
        super().on_epoch_end(net, **kwargs)


@pytest.mark.parametrize("batch_size", [7, -1])
@pytest.mark.parametrize("name, pipeline", CASES, ids=CASE_IDS)
def test_progress_bar_total_is_exact(name, pipeline, batch_size, capsys):
    X, y = data_for(pipeline)  # 120 samples: 30 validate at 256 a batch, 90 train
    model = make(
        name,
        pipeline,
        verbose=1,
        batch_size=batch_size,
        max_epochs=2,
        callbacks=[("recording_bar", _RecordingBar())],
    ).fit(X, y)
    clf = final(model)
    capsys.readouterr()
    for total, done in clf.history_[:, "bar"]:
        assert total == done
    counts = (
        clf.history_[-1, "train_batch_count"] + clf.history_[-1, "valid_batch_count"]
    )
    assert clf.history_[-1, "bar"][0] == counts
