#!/usr/bin/env bash
# usage: scripts/fuzz-elf.sh [seconds] [jobs]
# Fuzzes the ELF reader and load plan (tests/elf/fuzz_elf.cpp, libFuzzer + ASan + UBSan) for
# `seconds` (default 600) with `jobs` parallel workers (default 1). Needs clang++.
# Seeds are the sample images, the running kernel's vDSO and mutated copies of each; crashes are
# left as crash-* in $build/tests/elf/fuzz-work (reproduce: `elf_fuzz crash-<hash>`).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
jobs=${2:-1}
build=${VDSOKIT_FUZZ_BUILD_DIR:-build-fuzz-elf}
command -v clang++ >/dev/null || { echo "fuzz-elf: clang++ not found" >&2; exit 1; }
[ -d "$build" ] || meson setup "$build" >/dev/null
ninja -C "$build" tests/elf/elf_fuzz tests/elf/elf_seed_generator tests/elf/libelf_sample_vdso.so \
    tests/elf/libelf_sample_vdso_relr.so tests/elf/libelf_sample_library.so
VDSOKIT_FUZZ_JOBS=$jobs exec tests/elf/run_fuzz.sh "$build/tests/elf/elf_fuzz" \
    "$build/tests/elf/elf_seed_generator" "$seconds" "$build/tests/elf/fuzz-work" \
    "$build/tests/elf/libelf_sample_vdso.so" "$build/tests/elf/libelf_sample_vdso_relr.so" \
    "$build/tests/elf/libelf_sample_library.so"
