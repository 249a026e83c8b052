"""The Serving page's deployment manifests and commands: valid, and the
commands the docs give."""

import shlex
from pathlib import Path

import pytest

from skfashion.cli import main

yaml = pytest.importorskip("yaml")

DOCS = Path(__file__).parents[2] / "docs" / "user_guide"
MANIFEST = DOCS / "deploy" / "kserve-inferenceservice.yaml"


def _doc_command(start):
    """The command of the Serving page whose line starts with ``start``."""
    lines = (DOCS / "serving.rst").read_text().splitlines()
    (line,) = [li.strip() for li in lines if li.strip().startswith(start)]
    return shlex.split(line.split("#")[0])


def _options(command):
    """``--flag value`` pairs of a command (after its two words)."""
    words = command[2:]
    return dict(zip(words[::2], words[1::2], strict=True))


def _parses(command, capsys, tmp_path):
    """The command line is one skfashion takes: run with a model that does
    not exist, it fails on the model, not on its arguments."""
    missing = str(tmp_path / "no-model")
    options = {**_options(command), "--model": missing}
    argv = [command[1], *[w for pair in options.items() for w in pair]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no such model file" in err, err


def test_kserve_manifest_runs_the_documented_command(capsys, tmp_path):
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["apiVersion"] == "serving.kserve.io/v1beta1"
    assert manifest["kind"] == "InferenceService"
    (container,) = manifest["spec"]["predictor"]["containers"]
    command = container["command"]
    assert all(isinstance(part, str) for part in command)  # YAML: "8080" quoted
    documented = _doc_command("skfashion serve --engine kserve")
    assert command[:2] == documented[:2] == ["skfashion", "serve"]
    ours, docs = _options(command), _options(documented)
    # the documented command, the model where KServe puts the storage URI's
    assert ours["--model"] == "/mnt/models"
    for flag in ("--engine", "--port", "--grpc-port"):
        assert ours[flag] == docs[flag], flag
    assert ours["--engine"] == "kserve"
    port = int(ours["--port"])
    assert container["ports"][0]["containerPort"] == port
    probe = container["readinessProbe"]["httpGet"]
    assert probe == {"path": f"/v2/models/{ours['--name']}/ready", "port": port}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    (storage,) = [e for e in container["env"] if e["name"] == "STORAGE_URI"]
    assert storage["value"]
    _parses(command, capsys, tmp_path)
    _parses(documented, capsys, tmp_path)


def test_triton_export_command_of_the_docs_parses(capsys, tmp_path):
    command = _doc_command("skfashion export --triton")
    options = _options(command)
    assert (options["--triton"], options["--name"]) == ("models", "fashion")
    _parses(command, capsys, tmp_path)
