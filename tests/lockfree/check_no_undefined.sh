#!/bin/sh
# Fails if an object or archive needs any symbol from outside: freestanding code cannot have one.
set -eu
undefined=$(nm -u "$1" | grep -v -e ':$' -e '^$' || true)
if [ -n "$undefined" ]; then
    echo "undefined symbols in $1 (freestanding code must not need any):"
    echo "$undefined"
    exit 1
fi
echo "no undefined symbols in $1"
