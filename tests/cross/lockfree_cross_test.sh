#!/bin/bash
# lockfree_cross_test.sh ARCH: builds the lock-free structures' tests for ARCH (aarch64, riscv64)
# and runs their default cases under qemu-user, threads and forked processes included. The deques
# need a 16-byte CAS, so riscv64 runs the rings, futex waits and seqlock only. On aarch64 this is
# where the deques' exclusive-pair CAS, and split_deque's 8-byte CAS of half a cell that a 16-byte
# CAS also writes, run for real.
# Environment: VDSOKIT_SOURCE.
set -euo pipefail
source "$(dirname "$0")/cross_tools.sh" "$1"
case $arch in
  aarch64) tests="deque_test deque_process_test split_deque_test ring_futex_seqlock_test" ;;
  *) tests="ring_futex_seqlock_test" ;;
esac
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# Catch2 is header-only and architecture-independent, but a cross compiler does not search /usr/include.
cross_flags="-std=c++20 -O2 -pthread -idirafter /usr/include -I$VDSOKIT_SOURCE/include -I$VDSOKIT_SOURCE/tests/lockfree"
$cxx $cross_flags -c "$VDSOKIT_SOURCE/tests/catch_main.cpp" -o "$work/catch_main.o"
for test in $tests; do
  $cxx $cross_flags "$VDSOKIT_SOURCE/tests/lockfree/$test.cpp" "$work/catch_main.o" -o "$work/$test"
  "$qemu" -L "/usr/$arch-linux-gnu" "$work/$test"
  echo "ok: $test passed on $arch under $qemu"
done
