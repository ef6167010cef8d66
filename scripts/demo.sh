#!/usr/bin/env bash
# The demonstrator (what `make demo` runs after the build, from the repository root): writes the
# models if absent, then runs configs/ttbar.yaml (DEMO_CONFIG: another job config, e.g.
# configs/ttbar_onnx.yaml with the ONNX and TensorFlow models) in SONIC mode with no server configured, so
# TritonService starts a local sonic-server for the job; the same events are then run with direct
# inference and every ML output is compared. Prints events/s, the time table and the validation
# summary; exits non-zero when the job or the validation fails.
#
#   BUILD_DIR=build [DEMO_CONFIG=configs/ttbar.yaml] bash scripts/demo.sh [extra `sonic run`
#   flags, e.g. --events 50]
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${BUILD_DIR:-build}"
BIN="$BUILD_DIR/bin"
MODELS="$BUILD_DIR/models"
REPORT="$BUILD_DIR/demo-report.json"
CONFIG="${DEMO_CONFIG:-configs/ttbar.yaml}"

for tool in sonic sonic-server; do
  if [[ ! -x "$BIN/$tool" ]]; then
    echo "demo: $BIN/$tool is missing; build first (BUILD_DIR=$BUILD_DIR)" >&2
    exit 1
  fi
done

have_models() {
  local model
  for model in particlenet_padded particlenet_ragged deepmet deeptau; do
    [[ -f "$MODELS/$model/config.pbtxt" && -f "$MODELS/$model/1/model.pt" ]] || return 1
  done
  # The models the config names (e.g. the ONNX and TensorFlow ones).
  for model in $(grep -o 'model: *[A-Za-z0-9_]*' "$CONFIG" | sed 's/model: *//'); do
    [[ -f "$MODELS/$model/config.pbtxt" ]] || return 1
  done
}
if ! have_models; then
  echo "=== Writing the models to $MODELS"
  "$BIN/sonic" models generate --out "$MODELS"
fi

echo "=== The demonstrator job through SONIC (local fallback server), validated against direct inference"
# No site server: the job's TritonService must start its own.
unset SONIC_SERVER_ADDRESS
SONIC_SERVER_BINARY="$BIN/sonic-server" "$BIN/sonic" run "$CONFIG" --mode sonic \
  --models "$MODELS" --validate --report "$REPORT" "$@"
echo "report: $REPORT"
