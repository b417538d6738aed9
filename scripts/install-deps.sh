#!/usr/bin/env bash
# Installs what vdsokit's build, tests and demo need on Debian 12, and nothing it already has.
set -euo pipefail
packages=(meson ninja-build g++ clang pkg-config catch2 libboost1.81-dev binutils strace
          musl-tools liburing-dev libconcurrentqueue-dev libxenium-dev libclang-rt-14-dev)
# --cross: also the aarch64 and riscv64 compilers and qemu-user, for `scripts/test.sh --suite cross`.
if [ "${1:-}" = "--cross" ]; then
  packages+=(g++-aarch64-linux-gnu g++-riscv64-linux-gnu binutils-aarch64-linux-gnu binutils-riscv64-linux-gnu qemu-user)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "vdsokit: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
