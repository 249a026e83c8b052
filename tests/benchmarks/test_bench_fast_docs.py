"""The FastFashionCNN benchmark's docs (``benchmarks/_fast_docs.py``): the
Pareto front and the tables are made from fast.json as they should be."""

from benchmarks import _fast_docs as fast_docs


def _fit(part, model, epochs, seed, acc, seconds, params=None, **extra):
    return {
        "part": part,
        "model": model,
        "params": params if params is not None else {"max_epochs": epochs},
        "seed": seed,
        "epochs": epochs,
        "test_acc": acc,
        "train_s": seconds,
        "precision": "bfloat16",
        **extra,
    }


RECORD = {
    "cpu": "Some CPU",
    "cpu_detail": "Some CPU, family 1",
    "quick": False,
    "machine": {"cores": 2, "torch": "2.13.0+cpu"},
    "fits": [
        _fit("default", "fast", 16, s, 0.95 + s / 1000, 500, {}, test_acc_no_tta=0.94)
        for s in range(3)
    ]
    + [
        _fit("epochs", "fast", 4, 0, 0.94, 130),
        _fit("models", "mlp", 2, 0, 0.86, 14),
        _fit("models", "mlp", 10, 0, 0.88, 60),
        _fit("models", "cnn", 2, 0, 0.89, 350),  # slower and worse than fast 4
        _fit("ablation", "fast", 16, 0, 0.947, 480, {"whiten": False}, cpu_shared=True),
        # the previous release on the same CPU: a baseline, not a point
        _fit("previous", "fast", 16, 0, 0.949, 800, {"precision": "bfloat16"}),
    ],
}


def test_pareto_front_keeps_only_unbeaten_points():
    front = fast_docs.pareto(fast_docs.points(RECORD))
    assert [(p[0], p[1]) for p in front] == [
        ("mlp", 2),
        ("mlp", 10),
        ("fast", 4),
        ("fast", 16),
    ]
    seconds = [p[2] for p in front]
    accuracy = [p[3] for p in front]
    assert seconds == sorted(seconds) and accuracy == sorted(accuracy)


def test_tables_name_the_cpu_and_the_changes(tmp_path):
    rst = fast_docs.tables(RECORD)
    assert "Some CPU, family 1 (2 cores" in rst
    assert "95.10 ± 0.10" in rst  # mean ± sample std of the three seeds
    # the ablation: whitening removed against the same seed of the defaults
    assert "-0.30" in rst and "480 (CPU shared)" in rst
    # against the previous release: seed 0 of each, and the time ratio
    assert (
        "   * - previous release (0.1)\n     - bfloat16\n     - 0\n     - 94.90\n"
        "     - 800\n     - 1.00\n   * - this release\n     - bfloat16\n     - 0\n"
        "     - 95.00\n     - 500\n     - 0.62"
    ) in rst
    # the epochs table counts the defaults' fits, not the previous release's
    assert "   * - 16\n     - 3\n     - 95.10 ± 0.10\n     - 500" in rst
    fast_docs.write_docs(RECORD, tmp_path)
    assert (tmp_path / "fast.png").stat().st_size > 0
