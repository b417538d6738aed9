#!/usr/bin/env bash
# Benchmarks the lock-free structures against every peer in one run and prints markdown tables
# (medians, ratios against the best peer).
# Usage: scripts/bench-lockfree.sh [repetitions [round-trips|batches|spsc|split]]
# (spsc, split: the one-direction queues, or split_deque plain, through a trailing consumer and
# through both trailing handles, with its best peers and xenium given trailing_producer's wait,
# at 1P1C, one row per repetition with the line state it saw).
# Builds in $VDSOKIT_BUILD_DIR (default build-lockfree). atomic_queue's Debian package pulls
# Boost 1.74, which conflicts with libboost1.81-dev, so it is never installed: its headers are
# extracted from the .deb into <build>/peer-headers.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${VDSOKIT_BUILD_DIR:-build-lockfree}
repetitions=${1:-5}

peer_dir="$build/peer-headers"
if [ ! -f "$peer_dir/usr/include/atomic_queue/atomic_queue.h" ]; then
    mkdir -p "$peer_dir"
    download=$(mktemp -d)
    if (cd "$download" && apt-get download libatomic-queue-dev >/dev/null 2>&1); then
        dpkg-deb -x "$download"/libatomic-queue-dev_*.deb "$peer_dir"
    else
        echo "note: could not fetch libatomic-queue-dev; atomic_queue is left out" >&2
    fi
    rm -rf "$download"
fi

if [ -f "$build/build.ninja" ]; then meson setup --reconfigure "$build" >/dev/null
else meson setup "$build" >/dev/null; fi
ninja -C "$build" tests/bench/lockfree/lockfree-bench >/dev/null

echo "## vdsokit lock-free benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
"$build/tests/bench/lockfree/lockfree-bench" "$repetitions" "${2:-all}"
