#!/usr/bin/env bash
# Loader benchmarks: builds into build/ (reusing it) and prints one markdown table from ONE run:
# (a) load + bind vs dlopen, (b) dispatch-table call vs dlsym'd pointer vs static call,
# (c) kernel vDSO symbol lookup with vdsokit's ELF reader vs glibc's dlvsym.
# Extra argument: the number of samples per row (default 31).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh loader_bench
build=${VDSOKIT_BUILD_DIR:-build}
echo "## vdsokit loader benchmarks ($(uname -m), $(nproc) cores, $(date -u +%Y-%m-%d))"
echo
"$build/tests/bench/loader/loader_bench" "$build/examples/counter/libcounter.so" "${1:-31}"
