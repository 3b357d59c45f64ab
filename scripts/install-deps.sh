#!/usr/bin/env bash
# Installs everything needed to build, run and test io_uring_exporter on Debian 12 (bookworm).
#   scripts/install-deps.sh            build + run dependencies
#   scripts/install-deps.sh --test     plus what the test suite and benchmarks use
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (apt-get needs it): sudo $0 $*" >&2
  exit 1
fi

build_pkgs=(
  build-essential cmake pkg-config git ca-certificates
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  liburing-dev prometheus-cpp-dev libcpp-httplib-dev libssl-dev libspdlog-dev libcli11-dev
  libyaml-cpp-dev libcrypt-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev curl prometheus fio bpftrace libclang-rt-14-dev
  qemu-system-x86 busybox-static cpio openssl python3
)

pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
