#!/usr/bin/env bash
# Runs the benchmarks of a build ($BUILD_DIR/bin/sonic_bench_*, default build/) in full, one
# after another; each prints its summary table and writes $BENCH_OUT/<scenario>.json (default
# bench/results/). With arguments, only the named ones run (e.g. `transport compression`); each
# benchmark's own flags are in its --help.
# Exits non-zero when a benchmark could not run; missed targets are reported, not failures.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BENCH_OUT=${BENCH_OUT:-bench/results}

benchmarks=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    bench="$BUILD_DIR/bin/sonic_bench_${name#sonic_bench_}"
    if [ ! -x "$bench" ]; then
      echo "no benchmark $bench (build first: make build)" >&2
      exit 1
    fi
    benchmarks+=("$bench")
  done
else
  shopt -s nullglob
  benchmarks=("$BUILD_DIR"/bin/sonic_bench_*)
fi
if [ ${#benchmarks[@]} -eq 0 ]; then
  echo "no benchmarks in $BUILD_DIR/bin (build first: make build)" >&2
  exit 1
fi
mkdir -p "$BENCH_OUT"
failed=0
for bench in "${benchmarks[@]}"; do
  echo "== $(basename "$bench")"
  rc=0
  "$bench" --out "$BENCH_OUT" || rc=$?
  if [ "$rc" -eq 77 ]; then
    echo "   (skipped)"
  elif [ "$rc" -ne 0 ]; then
    echo "   FAILED (exit $rc)" >&2
    failed=1
  fi
done
echo "results in $BENCH_OUT/"
exit $failed
