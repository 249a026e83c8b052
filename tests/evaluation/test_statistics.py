"""The report's statistics, on numbers worked out by hand."""

import numpy as np
import pytest

from skfashion.evaluation import (
    confused_pairs,
    mcnemar,
    mcnemar_in_words,
    per_class_recall,
    recall_change_in_words,
    seed_summary,
)


def test_seed_summary():
    s = seed_summary([0.88, 0.89, 0.90])
    assert s["mean"] == pytest.approx(0.89) and s["std"] == pytest.approx(0.01)
    # t(0.975, 2) = 4.3027: half width 4.3027 * 0.01 / sqrt(3)
    assert s["ci95"] == pytest.approx([0.89 - 0.024842, 0.89 + 0.024842], abs=1e-6)
    assert seed_summary([0.9]) == {"mean": 0.9, "std": 0.0, "ci95": None, "n": 1}


def test_mcnemar_exact():
    y = np.zeros(20)
    a = np.zeros(20)  # right everywhere
    b = np.r_[np.ones(5), np.zeros(15)]  # wrong on 5 that a gets right
    test = mcnemar(y, a, b)
    assert (test["a_only"], test["b_only"]) == (5, 0)
    assert test["p_value"] == pytest.approx(2 * 0.5**5)  # 0.0625, two-sided
    assert mcnemar(y, a, a)["p_value"] == 1.0
    assert "may well be chance" in mcnemar_in_words(0.0625, "A", "B", 5, 0)
    assert "almost certainly real" in mcnemar_in_words(1e-5, "A", "B", 0, 40)
    assert mcnemar_in_words(1e-5, "A", "B", 0, 40).startswith("B's lead over A")


def test_confused_pairs_and_recall():
    cm = np.array([[8, 2, 0], [5, 5, 0], [0, 1, 9]])
    pairs = confused_pairs(cm, ["a", "b", "c"], top=2)
    # a <-> b is one pair, listed once (by its larger direction)
    assert [(p["true"], p["predicted"], p["count"]) for p in pairs] == [
        ("b", "a", 5),
        ("c", "b", 1),
    ]
    assert [p["reverse_count"] for p in pairs] == [2, 0]
    # no mistakes, no pairs; never more pairs than there are mistakes
    assert confused_pairs(np.eye(3, dtype=int), ["a", "b", "c"]) == []
    assert len(confused_pairs(cm, ["a", "b", "c"], top=10)) == 2
    np.testing.assert_allclose(per_class_recall(cm), [0.8, 0.5, 0.9])


def test_recall_change_in_words():
    before = np.array([0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 0.5, 0.9, 0.9, 0.9])
    after = before.copy()
    after[1] += 0.3  # Trouser rises most, then Shirt
    after[6] += 0.2
    after[4] = 0.0  # Coat falls to nothing
    words = recall_change_in_words(before, after)
    assert words.startswith("recall rises most on Trouser (50.0 → 80.0 %), Shirt")
    assert "falls most on Coat (80.0 → 0.0 %)" in words
    assert "Dress" not in words  # unchanged classes are not called gains
    # nothing falls: the least gain is named as such
    assert "rises least on" in recall_change_in_words(
        before, before + 0.01 * np.arange(10)
    )
    assert recall_change_in_words(after, before).startswith("recall rises most on Coat")
    # nothing changes: no invented gain
    assert recall_change_in_words(before, before) == "recall rises on no class."
