#!/bin/sh
# freestanding.sh CXX INCLUDE_DIR TEST_DIR: every public header compiles on its own with
# -ffreestanding -fno-exceptions -fno-rtti -nostdlib, and a vDSO-style use of them leaves no
# undefined symbol beyond the memory functions vdso.hpp defines itself.
set -u
cxx=$1 include=$2 tests=$3
flags="-std=c++20 -O2 -ffreestanding -fno-exceptions -fno-rtti -nostdlib -fPIC -Wall -Wextra -Werror"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
status=0
# Hosted headers live under vdsokit/linux/ and are exempt.
for header in "$include"/vdsokit.hpp $(find "$include/vdsokit" -name '*.hpp' -not -path '*/linux/*' | sort); do
  name=${header#"$include"/}
  printf '#include <%s>\n' "$name" > "$work/one.cpp"
  if ! out=$($cxx $flags -I"$include" -c "$work/one.cpp" -o "$work/one.o" 2>&1); then
    echo "FAIL: $name does not compile freestanding:"; echo "$out" | head -20; status=1; continue
  fi
  undefined=$(nm -u "$work/one.o")
  if [ -n "$undefined" ]; then echo "FAIL: $name leaves undefined symbols: $undefined"; status=1; fi
done
if ! out=$($cxx $flags -DVDSOKIT_BUILDING_VDSO=1 -I"$include" -I"$tests" -c "$tests/freestanding_use.cpp" -o "$work/use.o" 2>&1); then
  echo "FAIL: freestanding_use.cpp:"; echo "$out" | head -20; status=1
else
  undefined=$(nm -u "$work/use.o" | grep -vE ' (memcpy|memmove|memset|memcmp)$')
  if [ -n "$undefined" ]; then echo "FAIL: a vDSO-style use leaves undefined symbols: $undefined"; status=1; fi
fi
[ $status -eq 0 ] && echo "ok: every header is freestanding with $cxx"
exit $status
