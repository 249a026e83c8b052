#!/usr/bin/env bash
# Set up skfashion on a fresh machine: CPU PyTorch, the package with its test
# extra, and Fashion-MNIST from Debian when it is not there yet.
# Usage: bash scripts/setup.sh [EXTRAS]   (default extras: test)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-test}"

# The pinned CPU build first: an unpinned torch would pull a multi-GB CUDA build.
python3 -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
python3 -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"

data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/t10k-labels-idx1-ubyte.gz" ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  echo "Installing Fashion-MNIST (Debian package dataset-fashion-mnist)..."
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
