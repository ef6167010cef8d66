#!/usr/bin/env bash
# Demo of sonic-server and sonic-infer, run from the repository root after a build (this is
# what `make demo` runs). Writes the integration tests' model repository, starts the server on
# a free loopback port, sends a few requests with sonic-infer, stops the server and shows its
# log. Unattended: the server is stopped (SIGTERM) however the script ends.
#
#   BUILD_DIR=build bash scripts/demo.sh
set -euo pipefail

BUILD_DIR="${BUILD_DIR:-build}"
BIN="$BUILD_DIR/bin"
REPOSITORY="$BUILD_DIR/demo-repository"
SERVER_STDOUT="$BUILD_DIR/demo-server.out"
SERVER_LOG="$BUILD_DIR/demo-server.log"
STARTUP_TIMEOUT_S=120
STOP_TIMEOUT_S=60
SERVER_PID=""

headline() { printf '\n=== %s\n' "$*"; }

# Sends SIGTERM and waits for the server to exit; SIGKILL past STOP_TIMEOUT_S.
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local pid="$SERVER_PID"
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: the server did not stop within ${STOP_TIMEOUT_S} s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# Waits for the server's "listening on ADDRESS:PORT" line and prints PORT.
wait_for_port() {
  local line
  for ((i = 0; i < STARTUP_TIMEOUT_S * 10; i++)); do
    line="$(grep -m1 'listening on ' "$SERVER_STDOUT" || true)"
    if [[ -n "$line" ]]; then
      echo "${line##*:}"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "demo: sonic-server exited during startup; its log:" >&2
      cat "$SERVER_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "demo: sonic-server was not listening within ${STARTUP_TIMEOUT_S} s" >&2
  return 1
}

for tool in sonic-server sonic-infer sonic_make_test_repository; do
  if [[ ! -x "$BIN/$tool" ]]; then
    echo "demo: $BIN/$tool is missing; build first (BUILD_DIR=$BUILD_DIR)" >&2
    exit 1
  fi
done

headline "Writing the test model repository to $REPOSITORY"
"$BIN/sonic_make_test_repository" --out "$REPOSITORY"
ls "$REPOSITORY"

headline "Starting sonic-server"
: >"$SERVER_STDOUT"
"$BIN/sonic-server" --model-repository "$REPOSITORY" --grpc-address 127.0.0.1 --grpc-port 0 \
  >"$SERVER_STDOUT" 2>"$SERVER_LOG" &
SERVER_PID=$!
PORT="$(wait_for_port)"
URL="127.0.0.1:$PORT"
echo "sonic-server (pid $SERVER_PID) is listening on $URL"

headline "torch_mlp (LibTorch MLP, 16 -> 4), batch 4, 200 requests"
"$BIN/sonic-infer" -u "$URL" -m torch_mlp -b 4 --repeat 200

headline "identity_fp32 (identity backend), variable dimension given with --shape INPUT0:16"
"$BIN/sonic-infer" -u "$URL" -m identity_fp32 --shape INPUT0:16

headline "broken_model (its model.pt is garbage): the server reports it unavailable"
"$BIN/sonic-infer" -u "$URL" -m broken_model 2>&1 || true

headline "Stopping sonic-server"
stop_server
echo "server log lines (the whole log is in $SERVER_LOG):"
grep '^sonic-server: ' "$SERVER_LOG" || true
