#!/usr/bin/env bash
# The demo: installs what it needs, builds into build/ (reusing it if present), and runs the
# counter host: one vVAR shared by several fork+exec'd processes, each mapping the counter vDSO at
# its own base. Extra arguments go to the host, e.g. `scripts/demo.sh --children 5 --rounds 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh counter-demo
build=${VDSOKIT_BUILD_DIR:-build}
echo "vdsokit demo ($build/examples/counter/counter-demo)"
exec "$build/examples/counter/counter-demo" "$@"
