#!/bin/bash
# cross_test.sh ARCH: builds the counter vDSO for ARCH (aarch64, riscv64) with vdsokit's recipe and
# linker script, runs vdsokit-gen's post-link checks on it, then builds the kernel-style static
# loader (tests/loader/freestanding_loader.cpp) for ARCH and runs it under qemu-user: the image is
# mapped twice over one vVAR from its generated segment table and called through dispatch tables.
# Environment: VDSOKIT_GEN, VDSOKIT_SOURCE, VDSO_CFLAGS, VDSO_LDFLAGS (for ARCH).
set -euo pipefail
source "$(dirname "$0")/cross_tools.sh" "$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
src=$VDSOKIT_SOURCE/examples/counter
include=$VDSOKIT_SOURCE/include
# Boost.PFR is architecture-independent, but a cross compiler does not search /usr/include.
cross_flags="-std=c++20 -O2 -idirafter /usr/include"

"$VDSOKIT_GEN" mut-cfg --out "$work/counter_mut_cfg.hpp" "$src/config.hpp"
"$VDSOKIT_GEN" version-script --node COUNTER_1 --out "$work/counter.ver" "$src/api.hpp"
$cxx $cross_flags -fPIC $VDSO_CFLAGS -I"$include" -I"$work" -I"$src" -c "$src/counter.cpp" -o "$work/counter.o"
$cxx -shared -o "$work/libcounter.so" "$work/counter.o" $VDSO_LDFLAGS -Wl,--version-script="$work/counter.ver"
"$VDSOKIT_GEN" api --name counter --node COUNTER_1 --api "$src/api.hpp" --so "$work/libcounter.so" \
  --config "$src/config.hpp" --out-dir "$work"
echo "ok: $arch image built and passed the post-link checks"
$arch-linux-gnu-readelf -lW "$work/libcounter.so" | grep -E '^ +LOAD'

$cxx $cross_flags -ffreestanding -fno-pie -fno-exceptions -fno-rtti -fno-stack-protector -fno-threadsafe-statics \
  -I"$include" -I"$work" -I"$src" "$VDSOKIT_SOURCE/tests/loader/freestanding_loader.cpp" \
  -nostdlib -static -no-pie -o "$work/freestanding_loader" -lgcc
"$qemu" "$work/freestanding_loader"
echo "ok: $arch kernel-style loader ran the image under $qemu"
