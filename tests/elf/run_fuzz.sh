#!/bin/sh
# usage: run_fuzz.sh FUZZ_TARGET SEED_GENERATOR SECONDS WORK_DIR IMAGE...
# Generates seeds (the images, the running kernel's vDSO and mutated copies of each), then runs
# the libFuzzer target for SECONDS. Any crash, sanitizer report or timeout fails the run; the
# reproducer is left in WORK_DIR.
set -eu
fuzz=$(realpath "$1") generator=$(realpath "$2") seconds=$3 work=$4
shift 4
rm -rf "$work/seeds" "$work/corpus"
mkdir -p "$work/seeds" "$work/corpus"
"$generator" "$work/seeds" "$@"
# Committed seeds: inputs that once found bugs.
cp "$(dirname "$(realpath "$0")")"/corpus/* "$work/seeds/" 2>/dev/null || true
cd "$work"
jobs=${VDSOKIT_FUZZ_JOBS:-1}
parallel=""
# libFuzzer's -jobs runs children that log to fuzz-N.log; one job runs in this process instead.
if [ "$jobs" -gt 1 ]; then parallel="-jobs=$jobs -workers=$jobs"; fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# shellcheck disable=SC2086
exec "$fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 $parallel corpus seeds
