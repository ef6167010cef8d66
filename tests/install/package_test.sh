#!/usr/bin/env bash
# package_test.sh BUILD_DIR: CPack's Debian packages of a built tree, installed with dpkg -i on
# this machine (root; CI's fresh machine) and used as a user would: the packaged server serves,
# a project outside this tree finds the packaged client library with a plain find_package(Sonic)
# and runs a job through it. The packages are removed again at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
SERVER_PID=""
packages=(libsonic-client-dev sonic-server libsonic)
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
dpkg -i "$work/packages/"*.deb

sonic-server --help > /dev/null
write_identity_repository "$work/repository"
start_server "$(command -v sonic-server)" "$work/repository" "$work/server.log"
build_and_run_consumer "$here/consumer" "$work/consumer" "$work/repository/identity_fp32"
stop_server
echo "package test: the packages install, the server serves, find_package(Sonic) finds the client"
