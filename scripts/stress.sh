#!/usr/bin/env bash
# Run the given tests N times in a row beside a busy core, stopping at the
# first failure: the routine every test that starts processes, sends
# signals, uses threads or waits on time goes through (docs/contributing.rst).
# Usage: N=10 bash scripts/stress.sh tests/cli/test_tune.py::test_x [more tests...]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-10}"
[ "$#" -gt 0 ] || { echo "usage: N=10 bash scripts/stress.sh TEST..." >&2; exit 2; }
python=.venv/bin/python
[ -x "$python" ] || python=python3

# one core kept busy by another process for the whole run
"$python" -c "while True: pass" &
busy=$!
trap 'kill "$busy" 2>/dev/null' EXIT

for i in $(seq 1 "$n"); do
  start=$(date +%s)
  if ! "$python" -m pytest -q -p no:cacheprovider --no-header -n 0 "$@" >"/tmp/stress.$$.log" 2>&1; then
    echo "run $i of $n: FAILED (log: /tmp/stress.$$.log)"
    tail -n 30 "/tmp/stress.$$.log"
    exit 1
  fi
  echo "run $i of $n: passed in $(( $(date +%s) - start )) s ($(tail -n 1 "/tmp/stress.$$.log"))"
done
rm -f "/tmp/stress.$$.log"
echo "$n passed, 0 failed"
