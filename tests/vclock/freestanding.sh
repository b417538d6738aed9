#!/bin/sh
# freestanding.sh CXX SOURCE INCLUDE_DIR GENERATED_DIR: the kernel drop-in (the generated
# vclock_image.hpp plus vdsokit/vclock.hpp) compiles as kernel code and needs no runtime symbol
# beyond the memory functions.
set -u
cxx=$1 source=$2 include=$3 generated=$4
flags="-std=c++20 -O2 -ffreestanding -fno-exceptions -fno-rtti -nostdlib -fno-stack-protector -mno-red-zone -Wall -Wextra -Werror"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if ! out=$($cxx $flags -I"$include" -I"$generated" -c "$source" -o "$work/dropin.o" 2>&1); then
  echo "FAIL: $source does not compile freestanding with $cxx:"; echo "$out" | head -30; exit 1
fi
# memcpy/memmove/memset/memcmp are the four every freestanding environment provides (GCC and Clang
# may emit calls to them for struct copies and zeroing); a kernel has its own.
undefined=$(nm -u "$work/dropin.o" | grep -vE ' (memcpy|memmove|memset|memcmp)$')
if [ -n "$undefined" ]; then echo "FAIL: the kernel drop-in needs runtime symbols: $undefined"; exit 1; fi
# The image must really be in the object: it is what the kernel maps.
if ! nm -C "$work/dropin.o" | grep -q 'vclock_vdso::embedded::bytes'; then
  echo "FAIL: the embedded image bytes are missing from the object"; exit 1
fi
echo "ok: vclock_image.hpp + vdsokit/vclock.hpp are freestanding with $cxx"
