#!/usr/bin/env bash
# Installs what the build needs, configures $VDSOKIT_BUILD_DIR (default build/, reused when it
# exists) and builds the given targets, or everything. Used by the demo, test and benchmark scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh ${VDSOKIT_INSTALL_FLAGS:-}
build=${VDSOKIT_BUILD_DIR:-build}
if [ -f "$build/build.ninja" ]; then meson setup --reconfigure "$build" >/dev/null
else meson setup "$build" >/dev/null; fi
if ! meson compile -C "$build" "$@" > "$build/compile.log" 2>&1; then
  tail -n 60 "$build/compile.log"
  echo "vdsokit: the build failed; the full log is $build/compile.log" >&2
  exit 1
fi
