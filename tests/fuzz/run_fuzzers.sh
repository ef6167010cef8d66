#!/usr/bin/env bash
# run_fuzzers.sh BUILD_DIR: runs every libFuzzer target of BUILD_DIR (configured with
# SONIC_FUZZ=ON, see `make fuzz`) for FUZZ_SECONDS each (default 60), from its seed corpus
# (tests/fuzz/corpus/<target>) and the inputs earlier runs found (BUILD_DIR/corpus/<target>).
# A crash, a leak, a hang over 10 s or 2 GiB of memory stops the run: libFuzzer writes the input
# to BUILD_DIR/crashes/<target>-..., and `BUILD_DIR/bin/<target> <that file>` repeats it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
seconds=${FUZZ_SECONDS:-60}
targets=(infer_request_fuzzer http_infer_fuzzer model_config_fuzzer model_repository_fuzzer
         shared_memory_manager_fuzzer)
mkdir -p "$build/crashes"
for target in "${targets[@]}"; do
  mkdir -p "$build/corpus/$target"
  echo "== $target: ${seconds} s"
  "$build/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$target-" \
    "$build/corpus/$target" "$here/corpus/$target" 2>&1 | grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|.*ERROR|artifact_prefix|Test unit written)" || true
  if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
    echo "fuzz: $target failed; see $build/crashes/" >&2
    exit 1
  fi
done
echo "fuzz: every target ran ${seconds} s without a failure"
