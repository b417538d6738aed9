#!/usr/bin/env bash
# Installs what vdsokit's build, tests and demo need on Debian 12, and nothing it already has.
set -euo pipefail
packages=(meson ninja-build g++ clang pkg-config catch2 libboost1.81-dev binutils strace
          musl-tools liburing-dev libconcurrentqueue-dev libxenium-dev libclang-rt-14-dev)
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
