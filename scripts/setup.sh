#!/usr/bin/env bash
# Set up skfashion on a fresh machine, in a virtual environment of its own:
# .venv/ in the repository (made if missing), with the CPU build of PyTorch,
# the package and its extras; Fashion-MNIST from Debian when it is not there.
# Usage: bash scripts/setup.sh [EXTRAS]   (default extras: test,tune,onnx,serve,kserve,robust,cards)
# Then run .venv/bin/skfashion, .venv/bin/python -m pytest, ... or enter the
# environment first: . .venv/bin/activate
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-test,tune,onnx,serve,kserve,robust,cards}"
venv=.venv

if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi

if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian and Ubuntu ship venv's pip bootstrap in a package of its own
    rm -rf "$venv"
    if command -v apt-get >/dev/null; then
      version="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
      echo "Installing python${version}-venv (Debian package) for the virtual environment..."
      $sudo apt-get update -qq
      $sudo apt-get install -y -qq "python${version}-venv" >/dev/null
    fi
    python3 -m venv "$venv"
  fi
fi
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)

# The pinned CPU build first: an unpinned torch would pull a multi-GB CUDA build.
"${pip[@]}" "torch==2.13.0"
"${pip[@]}" -e ".[${extras}]"

data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/t10k-labels-idx1-ubyte.gz" ] && command -v apt-get >/dev/null; then
  echo "Installing Fashion-MNIST (Debian package dataset-fashion-mnist)..."
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

echo "skfashion is set up in $venv/: run .venv/bin/skfashion (or . .venv/bin/activate first)."
