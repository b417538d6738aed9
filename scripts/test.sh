#!/usr/bin/env bash
# The test command: installs what it needs, builds, runs the default suites (extra arguments go to
# `meson test`, e.g. `--suite long`), and ends with the line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
case " $* " in
  *cross*) export VDSOKIT_INSTALL_FLAGS=--cross ;;   # the aarch64/riscv64 suite needs their toolchains
esac
build=${VDSOKIT_BUILD_DIR:-build}
scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }
log="$build/meson-logs/testlog.json"
rm -f "$log"   # so the counts below are this run's, never a previous one's
meson test -C "$build" --print-errorlogs "$@"
status=$?
[ -f "$log" ] || { echo "0 passed, 1 failed"; exit 1; }
passed=$(grep -c '"result": "OK"' "$log" || true)
failed=$(grep -cE '"result": "(FAIL|TIMEOUT|UNEXPECTEDPASS|ERROR)"' "$log" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
