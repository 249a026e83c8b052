import subprocess
import sys
from pathlib import Path

import pytest

from skfashion import __version__
from skfashion.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"skfashion {__version__}"


def test_no_command_is_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "skfashion: error:" in err


def test_data_reports_real_files(fashion_train, capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "train-images-idx3-ubyte.gz" in out
    assert "train: 60000 images of 28x28, 10 classes (6000-6000 per class)" in out
    assert "test: 10000 images" in out


def test_data_missing_exits_nonzero_with_fix(isolated_data, capsys):
    assert main(["data"]) == 1
    captured = capsys.readouterr()
    assert "not found (would download to" in captured.out
    assert "apt-get install dataset-fashion-mnist" in captured.err
    assert "Traceback" not in captured.err


def test_console_script_help():
    out = subprocess.run(
        [sys.executable, "-m", "skfashion.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "data" in out


HEAVY = ("torch", "sklearn", "skorch", "scipy", "pandas", "matplotlib")


def _modules_after(code):
    """The heavy libraries a fresh interpreter has imported after ``code``."""
    check = f"{code}\nimport sys\nprint(sorted(set({HEAVY!r}) & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_import_and_help_and_data_need_no_heavy_library(fashion_train):
    """`import skfashion`, `skfashion --help` and `skfashion data` are quick
    because they import none of PyTorch, scikit-learn & co (their timings:
    ``python -m benchmarks startup``); a public name imports its module."""
    assert _modules_after("import skfashion") == "[]"
    help_ = (
        "from skfashion.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass"
    )
    assert _modules_after(help_) == "[]"
    for command in ("report", "tune", "predict", "data"):
        assert (
            _modules_after(help_.replace("'--help'", f"'{command}', '--help'")) == "[]"
        )
    assert _modules_after("from skfashion.cli import main\nmain(['data'])") == "[]"
    assert "torch" in _modules_after("from skfashion import FashionMLP")


def test_lazy_names_are_the_real_ones():
    import skfashion
    from skfashion.neural_network import FashionMLP

    assert skfashion.FashionMLP is FashionMLP
    assert set(skfashion.__all__) <= set(dir(skfashion))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        skfashion.Nope  # noqa: B018


@pytest.mark.parametrize("env", [None, "custom"])
def test_cache_folder_is_scikit_learns_data_home(env, tmp_path, monkeypatch):
    from sklearn.datasets import get_data_home

    from skfashion.datasets import _fashion_mnist

    monkeypatch.setenv("HOME", str(tmp_path))
    if env is None:
        monkeypatch.delenv("SCIKIT_LEARN_DATA", raising=False)
    else:
        monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / env))
    expected = get_data_home()
    assert _fashion_mnist._cache_dir() == Path(expected) / "fashion_mnist"


def test_public_names_are_all_lazy():
    import skfashion

    assert sorted(skfashion.__all__) == sorted([*skfashion._MODULES, "__version__"])
