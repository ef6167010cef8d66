#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds, tests and runs with, and the project's
# Python virtual environment (.venv at the repository root) with the pinned packages of
# scripts/requirements.txt. A quick no-op when everything is already present; needs root (or
# sudo) for missing Debian packages.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev libgrpc-dev
  libabsl-dev
  libtorch-dev libopenblas0-openmp
  libxgboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libtbb-dev
  prometheus-cpp-dev libcpp-httplib-dev
  # sonic-server's bearer tokens (JWT signatures; JWKS keys are built with OpenSSL).
  libjwt-dev libssl-dev
  clang-14 libclang-rt-14-dev
  openssl
  gnuplot-nox
  python3-venv libb64-0d
  # The embedded CPython of the Python-hosted backends (src/backends/python_host).
  python3-dev libpython3.11
  # Only for bench/http_bench.cc's comparison of HTTP libraries (the server uses cpp-httplib).
  libevent-dev libmicrohttpd-dev
  # Only for exact per-request instruction counts of bench/request_path_bench.cc (callgrind).
  valgrind
  # Only for tests/cluster (make cluster-test): hosts as network namespaces, the load balancers,
  # Prometheus; tests/deploy checks deploy/kubernetes with haproxy -c and prometheus' promtool.
  iproute2 haproxy nginx prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The virtual environment is made with Debian's Python (the first python3 on PATH may be another
# one). The stamp holds the hash of the requirements it was last filled from.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/requirements.txt"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "bootstrap: installing scripts/requirements.txt into $venv"
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements"
  echo "$wanted" >"$stamp"
fi
