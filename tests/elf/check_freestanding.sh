#!/bin/sh
# usage: check_freestanding.sh COMPILER SOURCE INCLUDE_DIR
# Compiles SOURCE as a vDSO or kernel would and fails if the object needs any symbol.
set -eu
compiler=$1 source=$2 include=$3
object=$(mktemp /tmp/vdsokit-freestanding.XXXXXX.o)
trap 'rm -f "$object"' EXIT
"$compiler" -std=c++20 -I"$include" -ffreestanding -fno-exceptions -fno-rtti -nostdlib -O2 \
    -Wall -Wextra -Werror -c "$source" -o "$object"
undefined=$(nm -u "$object")
if [ -n "$undefined" ]; then
    echo "$compiler: undefined symbols in a freestanding build:"
    echo "$undefined"
    exit 1
fi
echo "$compiler: no undefined symbols"
