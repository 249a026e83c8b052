import subprocess
import sys

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
