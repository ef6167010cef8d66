# Shared by install_test.sh and package_test.sh (sourced): a model repository, a sonic-server
# started on a free port and stopped by PID, and the consumer project built and run against it.

# write_identity_repository DIR: one FP32 identity model with a variable dimension.
write_identity_repository() {
  mkdir -p "$1/identity_fp32/1"
  cat > "$1/identity_fp32/config.pbtxt" <<'CONFIG'
name: "identity_fp32"
backend: "identity"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
CONFIG
}

# start_server BINARY REPOSITORY LOG [FLAGS...]: starts the server on free ports (127.0.0.1); sets
# SERVER_PID and SERVER_ADDRESS once it listens. Fails after 60 s.
start_server() {
  "$1" --model-repository "$2" --grpc-address 127.0.0.1 --grpc-port 0 --metrics-port 0 \
    --http-port 0 "${@:4}" > "$3.out" 2> "$3" &
  SERVER_PID=$!
  local port=""
  for _ in $(seq 600); do
    port=$(sed -n 's/^sonic-server: listening on .*:\([0-9][0-9]*\)$/\1/p' "$3.out" | head -1)
    [[ -n "$port" ]] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "sonic-server exited before listening; its log:" >&2
      cat "$3" >&2
      return 1
    fi
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "sonic-server did not listen within 60 s" >&2
    return 1
  fi
  SERVER_ADDRESS="127.0.0.1:$port"
}

stop_server() {
  if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
  SERVER_PID=""
}

# build_and_run_consumer SOURCE BUILD_DIR MODEL_DIR [cmake args...]: configures and builds the
# consumer project, then runs it against $SERVER_ADDRESS with the model of MODEL_DIR.
build_and_run_consumer() {
  local source=$1 build=$2 model=$3
  shift 3
  cmake -S "$source" -B "$build" -G Ninja "$@" > "$build.configure.log" 2>&1 ||
    { cat "$build.configure.log" >&2; return 1; }
  cmake --build "$build" > "$build.build.log" 2>&1 || { cat "$build.build.log" >&2; return 1; }
  "$build/sonic_consumer" "$SERVER_ADDRESS" "$model"
}

# check_python_backends BINARY WORK_DIR PYTHON_HOME [--tensorflow]: the backends that run on a
# Python environment, as installed. Without SONIC_PYTHON_HOME the installed plugins have no
# environment (they never fall back to the build's): their models are unavailable with a reason
# naming SONIC_PYTHON_HOME. With it (PYTHON_HOME, a virtual environment of
# scripts/requirements.txt), an ONNX model, a model.py model and, with --tensorflow, a TensorFlow
# GraphDef are served and answer correctly through the stock tritonclient.
check_python_backends() {
  local binary=$1 work=$2 python_home=$3 models=(onnx_double py_add_sub)
  local python=$python_home/bin/python check
  check=$(dirname "${BASH_SOURCE[0]}")/python_backends.py
  if [[ "${4:-}" == --tensorflow ]]; then models+=(tf_double); fi
  "$python" "$check" write "$work/python_repository" "${4:-}"
  unset SONIC_PYTHON_HOME
  start_server "$binary" "$work/python_repository" "$work/no_python_home.log" --exit-on-error=false
  "$python" "$check" unavailable "$SERVER_ADDRESS" SONIC_PYTHON_HOME "${models[@]}" ||
    { cat "$work/no_python_home.log" >&2; return 1; }
  stop_server
  # LeakSanitizer (sanitized builds) is off for this server: the embedded interpreter is never
  # finalized, so its allocations would be reported as leaks.
  SONIC_PYTHON_HOME=$python_home ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    start_server "$binary" "$work/python_repository" "$work/python_home.log"
  "$python" "$check" serve "$SERVER_ADDRESS" "${models[@]}" ||
    { cat "$work/python_home.log" >&2; return 1; }
  stop_server
}
