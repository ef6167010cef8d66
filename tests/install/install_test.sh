#!/usr/bin/env bash
# install_test.sh BUILD_DIR: `cmake --install` into a fresh prefix, then use the installed tree
# as a user would: the server starts and serves from there, the `sonic` tool links no LibTorch
# and finds its direct-inference plugin and the installed ONNX exporter there, the Python-hosted
# backends (onnxruntime, python) serve from there on the environment SONIC_PYTHON_HOME names and
# on none other, and a project outside this tree builds against the CMake package
# (find_package(Sonic)) and runs a job through the installed server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
SERVER_PID=""
trap 'stop_server; rm -rf "$work"' EXIT
source "$here/install_lib.sh"

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for file in bin/sonic-server bin/sonic lib/libsonic_proto.so lib/libsonic_demo_direct.so \
    lib/libsonic_client.a include/sonic/client/triton_client.h lib/cmake/Sonic/SonicConfig.cmake \
    lib/libsonic_backend_onnxruntime.so lib/libsonic_backend_python.so \
    lib/sonic_python_backend/triton_python_backend_utils.py \
    lib/sonic_python_backend/sonic_python_runtime.py share/sonic/requirements.txt; do
  [[ -e "$prefix/$file" ]] || { echo "not installed: $file" >&2; exit 1; }
done

# The installed binaries find the project's library in the prefix, not in the build tree.
proto=$(ldd "$prefix/bin/sonic-server" | awk '/libsonic_proto/ {print $3}')
if [[ -z "$proto" || "$(realpath "$proto")" != "$(realpath "$prefix/lib/libsonic_proto.so")" ]]; then
  echo "sonic-server resolves libsonic_proto outside the prefix: '$proto'" >&2
  exit 1
fi
# The client side links neither LibTorch nor anything of the build tree.
if ldd "$prefix/bin/sonic" | grep -E "libtorch|libc10|$build"; then
  echo "bin/sonic links LibTorch or the build tree" >&2
  exit 1
fi

# The direct-inference plugin loads from the prefix: the model generator runs through it. Its
# ONNX exporter is the installed one, run by the Python of SONIC_PYTHON_HOME; without it (an
# installed plugin has no default environment) the ONNX models are skipped, saying so.
if [[ -e "$prefix/lib/libsonic_backend_pytorch.so" ]]; then
  env -u SONIC_PYTHON_HOME "$prefix/bin/sonic" models generate --out "$work/models" \
    --formats torchscript,onnx > "$work/generate.log" 2>&1
  [[ -s "$work/models/particlenet_ragged/1/model.pt" ]] ||
    { echo "sonic models generate wrote no model" >&2; cat "$work/generate.log" >&2; exit 1; }
  grep -q "skipped: .*SONIC_PYTHON_HOME" "$work/generate.log" ||
    { echo "no Python environment, yet ONNX was not skipped" >&2; cat "$work/generate.log" >&2; exit 1; }
  SONIC_PYTHON_HOME=$here/../../.venv "$prefix/bin/sonic" models generate \
    --out "$work/onnx_models" --formats torchscript,onnx > "$work/generate_onnx.log" 2>&1
  if ! ls "$work/onnx_models"/*/1/model.onnx > /dev/null 2>&1; then
    echo "sonic models generate wrote no ONNX model with SONIC_PYTHON_HOME" >&2
    cat "$work/generate_onnx.log" >&2
    exit 1
  fi
fi

write_identity_repository "$work/repository"
start_server "$prefix/bin/sonic-server" "$work/repository" "$work/server.log"
build_and_run_consumer "$here/consumer" "$work/consumer" "$work/repository/identity_fp32" -DCMAKE_PREFIX_PATH="$prefix"
stop_server
check_python_backends "$prefix/bin/sonic-server" "$work" "$here/../../.venv"
echo "install test: the installed tree serves (the Python backends on SONIC_PYTHON_HOME), and a" \
  "find_package(Sonic) project runs against it"
