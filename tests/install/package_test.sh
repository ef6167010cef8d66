#!/usr/bin/env bash
# package_test.sh BUILD_DIR: CPack's Debian packages of a built tree, installed with dpkg -i on
# this machine (root; CI's fresh machine) and used as a user would: the packaged server serves,
# with sonic-server-python-backends also ONNX, model.py and TensorFlow models on a Python
# environment given by SONIC_PYTHON_HOME (the project's .venv, as a site's venv made from
# /usr/share/sonic/requirements.txt), a project outside this tree finds the packaged client
# library with a plain find_package(Sonic) and runs a job through it. No package holds a path of
# the build or source tree. The packages are removed again at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
SERVER_PID=""
source_dir=$(cd "$here/../.." && pwd)
packages=(libsonic-client-dev sonic-server-python-backends sonic-server libsonic)
cleanup() {
  stop_server
  dpkg --purge "${packages[@]}" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
source "$here/install_lib.sh"

(cd "$build" && cpack -G DEB -B "$work/packages" > "$work/cpack.log") ||
  { cat "$work/cpack.log" >&2; exit 1; }
for package in "${packages[@]}"; do
  deb=$(ls "$work/packages/${package}_"*.deb 2> /dev/null | head -1)
  [[ -n "$deb" ]] || { echo "cpack made no $package package" >&2; ls "$work/packages" >&2; exit 1; }
  echo "$package: $(dpkg-deb -f "$deb" Version), depends: $(dpkg-deb -f "$deb" Depends)"
done
for package in "${packages[@]}"; do
  if dpkg -s "$package" > /dev/null 2>&1; then
    echo "$package is already installed here: this test installs and removes it" >&2
    exit 1
  fi
done
for deb in "$work/packages/"*.deb; do
  if dpkg-deb -c "$deb" | grep -F -e "$build" -e "$source_dir"; then
    echo "$deb holds a path of the build or source tree" >&2
    exit 1
  fi
done
dpkg -i "$work/packages/"*.deb
# The installed plugins and programs find their libraries in /usr/lib, not in the build tree.
for file in /usr/bin/sonic-server /usr/bin/sonic /usr/lib/libsonic_*.so; do
  if readelf -d "$file" | grep -E "R(UN)?PATH" | grep -F -e "$build" -e "$source_dir"; then
    echo "$file has a run path into the build or source tree" >&2
    exit 1
  fi
done

sonic-server --help > /dev/null
write_identity_repository "$work/repository"
start_server "$(command -v sonic-server)" "$work/repository" "$work/server.log"
build_and_run_consumer "$here/consumer" "$work/consumer" "$work/repository/identity_fp32"
stop_server
tensorflow=""
if [[ -e /usr/lib/libsonic_backend_tensorflow.so ]]; then tensorflow=--tensorflow; fi
check_python_backends "$(command -v sonic-server)" "$work" "$source_dir/.venv" $tensorflow
echo "package test: the packages install, the server serves (the Python backends too, on" \
  "SONIC_PYTHON_HOME), find_package(Sonic) finds the client"
