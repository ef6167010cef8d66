#!/usr/bin/env bash
# Runs the benchmarks of a build ($BUILD_DIR/bin/sonic_bench_*, default build/) in full, one
# after another, then the Python-driven ones (the backends': bench/onnxruntime_bench.py,
# tensorflow_bench.py, python_backend_gil.py; and perf_tools_bench.py, sonic perf beside the stock
# perf_analyzer), run by the project's .venv against the build's sonic-server; each prints its
# summary table and writes $BENCH_OUT/<scenario>.json (default bench/results/). With arguments,
# only the named ones run (e.g. `transport compression onnxruntime`); each benchmark's own flags
# are in its --help.
# Exits non-zero when a benchmark could not run; missed targets are reported, not failures.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BENCH_OUT=${BENCH_OUT:-bench/results}
PYTHON=${PYTHON:-.venv/bin/python}
PYTHON_BENCHMARKS=(bench/onnxruntime_bench.py bench/tensorflow_bench.py bench/python_backend_gil.py
                   bench/perf_tools_bench.py)

# The Python benchmark called `name` (onnxruntime, tensorflow, python_backend_gil, perf_tools),
# or nothing.
python_benchmark() {
  local script
  for script in "bench/${1}_bench.py" "bench/${1}.py"; do
    if [ -f "$script" ] && [[ " ${PYTHON_BENCHMARKS[*]} " == *" $script "* ]]; then
      echo "$script"
      return
    fi
  done
}

benchmarks=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    script=$(python_benchmark "$name")
    if [ -n "$script" ]; then
      benchmarks+=("$script")
      continue
    fi
    bench="$BUILD_DIR/bin/sonic_bench_${name#sonic_bench_}"
    if [ ! -x "$bench" ]; then
      echo "no benchmark $bench (build first: make build)" >&2
      exit 1
    fi
    benchmarks+=("$bench")
  done
else
  shopt -s nullglob
  benchmarks=("$BUILD_DIR"/bin/sonic_bench_* "${PYTHON_BENCHMARKS[@]}")
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
  if [[ "$bench" == *.py ]]; then
    SONIC_BUILD_DIR="$(cd "$BUILD_DIR" && pwd)" "$PYTHON" -B "$bench" --out "$BENCH_OUT" || rc=$?
  else
    "$bench" --out "$BENCH_OUT" || rc=$?
  fi
  if [ "$rc" -eq 77 ]; then
    echo "   (skipped)"
  elif [ "$rc" -ne 0 ]; then
    echo "   FAILED (exit $rc)" >&2
    failed=1
  fi
done
echo "results in $BENCH_OUT/"
exit $failed
