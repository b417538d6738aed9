#!/bin/sh
# compile_fail/expect.sh CXX INCLUDE_DIR SOURCE EXPECTED_TEXT: the source must fail to compile, and
# the diagnostics must contain EXPECTED_TEXT (so it fails for the reason it is meant to).
cxx=$1 include=$2 source=$3 expected=$4
if output=$($cxx -std=c++20 -fsyntax-only -I"$include" "$source" 2>&1); then
  echo "FAIL: $source compiled"; exit 1
fi
if ! printf '%s' "$output" | grep -qF -- "$expected"; then
  printf 'FAIL: %s failed without "%s":\n%s\n' "$source" "$expected" "$output" | head -40; exit 1
fi
echo "ok: $source refused: $expected"
