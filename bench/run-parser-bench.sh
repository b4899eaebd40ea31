#!/usr/bin/env bash
# SIP parser throughput: a 926-byte INVITE with SDP parsed N times on one core (release build).
#   bench/run-parser-bench.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
ITERATIONS=${1:-500000}
echo "+ swift build -c release --product pbxd-bench"
swift build -c release --product pbxd-bench >/dev/null
echo "# $(date -u +%F) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2 3; do
    taskset -c 1 .build/release/pbxd-bench parser --iterations "$ITERATIONS"
done
