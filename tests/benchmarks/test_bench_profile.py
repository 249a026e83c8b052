"""The profile benchmark (``benchmarks/bench_profile.py``): operators go to
the category of their nearest categorised ancestor, and the docs' tables say
what the record says. (Running it is the benchmark's job: minutes.)"""

from types import SimpleNamespace

import pytest

from benchmarks import bench_profile


def _event(name, parent=None):
    return SimpleNamespace(name=name, cpu_parent=parent)


@pytest.mark.parametrize(
    "chain, category",
    [
        (["aten::convolution_backward"], "convolution backward"),
        # the zero-filling inside the max-pool's backward is max-pooling
        (
            [
                "autograd::engine::evaluate_function: MaxPool2DWithIndicesBackward0",
                "aten::max_pool2d_with_indices_backward",
                "aten::fill_",
            ],
            "max-pooling",
        ),
        (
            ["aten::convolution", "aten::_convolution", "aten::mkldnn_convolution"],
            "convolution forward",
        ),
        (["augmentation", "aten::index"], "augmentation"),
        (["lookahead", "aten::lerp_"], "Lookahead"),
        (["Optimizer.step#SGD.step", "aten::add_"], "optimizer (SGD)"),
        (["aten::cross_entropy_loss", "aten::log_softmax"], bench_profile.OTHER_OPS),
    ],
)
def test_operators_go_to_their_nearest_category(chain, category):
    event = None
    for name in chain:
        event = _event(name, event)
    assert bench_profile._category(event) == category


def _profile(precision, step_s, conv_s):
    categories = dict.fromkeys(
        [*bench_profile.CATEGORIES, bench_profile.OTHER_OPS, bench_profile.UNSEEN],
        0.0,
    )
    categories["convolution backward"] = conv_s
    categories[bench_profile.UNSEEN] = step_s - conv_s
    return {"precision": precision, "step_s": step_s, "categories": categories}


RECORD = {
    "machine": {"cpu_cores": 2, "torch": "2.13.0+cpu"},
    "cpu_detail": "Some CPU, family 1",
    "profile": {
        "before": _profile("bfloat16", 0.8, 0.5),
        "after": _profile("float32", 0.5, 0.3),
    },
    "epochs": {
        "n_images": 60000,
        "rounds": 2,
        "precision": {"before": "bfloat16", "after": "float32", "avx2": "float32"},
        "median_s": {"before": 100.0, "after": 65.0, "avx2": 90.0},
    },
}


def test_tables_say_what_the_record_says():
    text = bench_profile.rst(RECORD)
    assert "Some CPU, family 1 (2 cores, torch 2.13.0+cpu)" in text
    # 0.5 s a step x 118 steps = 59.0 s of convolution backward, 62 % of 94.4
    assert "   * - convolution backward\n     - 59.0\n     - 62 %\n     - 35.4" in text
    assert "**94.4**" in text and "**59.0**" in text
    assert "   * - avx2\n     - float32\n     - 90.0\n     - 0.90" in text
    assert "   * - after\n     - float32\n     - 65.0\n     - 0.65" in text
    rows = {r["category"]: r for r in bench_profile.rows(RECORD)}
    assert rows["convolution backward"] == {
        "category": "convolution backward",
        "before_s": 59.0,
        "after_s": 35.4,
    }
    assert rows["epoch (after)"]["after_s"] == 65.0
