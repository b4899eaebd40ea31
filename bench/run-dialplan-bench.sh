#!/usr/bin/env bash
# Dialplan lookup speed: one context of 10,000 extensions (9,000 exact numbers, 1,000 patterns),
# Dialplan.findPriority timed for exact numbers, numbers only a pattern matches, and numbers
# nothing matches; release build, pinned to one core, three runs.
#   bench/run-dialplan-bench.sh [lookups]
set -euo pipefail
cd "$(dirname "$0")/.."
LOOKUPS=${1:-200000}
echo "+ swift build -c release --product pbxd-bench"
swift build -c release --product pbxd-bench >/dev/null
echo "# $(date -u '+%F %H:%M') UTC, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2 3; do
    taskset -c 1 .build/release/pbxd-bench dialplan --extensions 10000 --lookups "$LOOKUPS"
done
