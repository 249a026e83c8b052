"""The tables bench_shift and bench_serve write for the docs say what their
records say."""

import pytest

pytest.importorskip("skfashion")
from benchmarks.bench_held_out import rst_table as held_out_table  # noqa: E402
from benchmarks.bench_serve import rst_table as serve_table  # noqa: E402
from benchmarks.bench_shift import rst_table as shift_table  # noqa: E402


def _fit(seed, variant, clean, mixed, energy_auroc, vim_auroc, seconds):
    def detector(auroc):
        return {"digits": {"auroc": auroc, "fpr_at_tpr": 1 - auroc}}

    return {
        "seed": seed,
        "variant": variant,
        "clean_acc": clean,
        "mixed_acc": mixed,
        "selective_acc_90": clean + 0.03,
        "selective_acc_80": clean + 0.04,
        "train_s": seconds,
        "mixed_acc_by_corruption": {"inverse": mixed / 2, "rotate": mixed},
        "detectors": {
            "msp": detector(0.9),
            "energy": detector(energy_auroc),
            "mahalanobis": detector(0.5),
            "vim": detector(vim_auroc),
        },
    }


@pytest.mark.parametrize("names", ["evaluate_under_shift's", "old"])
def test_shift_table_averages_each_variant_over_its_seeds(names):
    from benchmarks.bench_shift import OLD_KEYS

    record = {
        "cpu": "x",
        "cpu_detail": "Some CPU, bfloat16",
        "machine": {"cpu_cores": 2},
        "fits": [
            _fit(0, "plain", 0.94, 0.50, 0.99, 0.90, 100.0),
            _fit(0, "robust", 0.93, 0.84, 0.97, 0.99, 220.0),
            _fit(1, "plain", 0.96, 0.40, 0.97, 0.92, 120.0),
        ],
    }
    if names != "old":  # the records fit_one writes now
        record["fits"] = [
            {OLD_KEYS.get(k, k): v for k, v in f.items()} for f in record["fits"]
        ]
        assert "clean_accuracy" in record["fits"][0]
        for fit in record["fits"]:  # measured since
            fit.update(mixed_ece=0.1, mixed_ece_temperature=0.05)
    ece = "n/a" if names == "old" else "10.00%"
    ece_after = "n/a" if names == "old" else "5.00%"
    table = shift_table(record)
    assert (
        "   * - plain (0, 1)\n     - 95.00%\n     - 45.00%\n     - 98.00% / 99.00%\n"
        f"     - {ece} / {ece_after}\n"
    ) in table
    assert "     - 0.980 / 2.0%\n     - 0.910 (vim)\n     - 110 (1.00x)" in table
    assert "     - 0.970 / 3.0%\n     - 0.990 (vim)\n     - 220 (2.00x)" in table
    assert "   * - robust (0)\n     - 93.00%\n     - 84.00%" in table
    assert "   * - ``inverse``\n     - 22.5%\n     - 42.0%" in table
    assert "Some CPU, bfloat16 (2 cores)" in table


def test_shift_table_leaves_one_family_out():
    """Each family's accuracy (its corruptions' mean) on a model whose
    augmentation left it out, beside the same on the others."""

    def fit(variant, inverse, affine):
        one = _fit(0, variant, 0.9, 0.5, 0.99, 0.9, 100.0)
        one["mixed_acc_by_corruption"] = {
            "inverse": inverse,
            "rotate": affine,
            "scale": affine + 0.1,
            "shear": affine + 0.2,
        }
        return one

    record = {
        "cpu": "x",
        "machine": {"cpu_cores": 2},
        "fits": [
            fit("plain", 0.1, 0.4),
            fit("consistency_in_family", 0.9, 0.8),
            fit("consistency", 0.3, 0.6),
            fit("without_invert", 0.2, 0.8),
            fit("without_affine", 0.9, 0.5),
        ],
    }
    table = shift_table(record)
    header = "     - plain\n     - consistency_in_family\n     - in-family without it"
    assert header + "\n     - consistency\n" in table
    invert = "   * - invert (inverse)\n     - 10.0%\n     - 90.0%\n"
    assert invert + "     - 20.0%\n     - 30.0%\n" in table
    affine = "   * - affine (rotate, scale, shear)\n     - 50.0%\n     - 90.0%\n"
    assert affine + "     - 60.0%\n     - 70.0%\n" in table
    # the main table keeps the main variants only
    assert "   * - without_invert" not in table


def _clients(rps):
    return {
        str(c): {"rps": rps * c, "p50_ms": 1.0, "p99_ms": 2.0 * c} for c in (1, 8, 32)
    }


def test_serve_table_puts_kserve_beside_ours():
    ours = {"mlp": {"inprocess_ips_64": 5000.0, "clients": _clients(100)}}
    theirs = {"mlp": {"inprocess_ips_64": 5000.0, "clients": _clients(50)}}
    record = {
        "cpu": "x",
        "machine": {"cpu_cores": 2},
        "health_rps": 8000.0,
        "fastapi_route_rps": 4000.0,
        "models": ours,
        "engines": {"skfashion": ours, "kserve": theirs},
    }
    table = serve_table(record)
    assert "3,200 / 1,600 req/s (p99 64.0 / 64.0 ms)" in table
    assert "     - 0.50x" in table
    del record["engines"]["kserve"]
    assert "KServe" not in serve_table(record)


def test_held_out_table_gives_each_split_and_their_mean():
    def split(classes, accuracy, energy):
        return {
            "split": classes,
            "accuracy_learned": accuracy,
            "detectors": {
                "msp": {"auroc": 0.5, "fpr_at_tpr": 0.9},
                "energy": {"auroc": energy, "fpr_at_tpr": 1 - energy},
            },
        }

    record = {
        "cpu": "x",
        "cpu_detail": "Some CPU",
        "machine": {"cpu_cores": 2},
        "quick": True,
        "splits": [split([6, 5], 0.9, 0.7), split([0, 9], 0.8, 0.9)],
    }
    table = held_out_table(record, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
    assert "     - msp: AUROC / FPR@95\n     - energy: AUROC / FPR@95" in table
    assert (
        "   * - g + f\n     - 90.00%\n     - 0.500 / 90.0%\n     - 0.700 / 30.0%"
        in (table)
    )
    assert (
        "   * - mean of 2\n     - 85.00%\n     - 0.500 / 90.0%\n     - 0.800 / 20.0%"
        in (table)
    )
    assert "quick (6,000 images, 2 epochs)" in table
