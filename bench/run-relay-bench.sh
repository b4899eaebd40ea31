#!/usr/bin/env bash
# RTP relay benchmark: builds the release relay (pbxd-bench relay), the C load generator and the
# malloc counter, then for each call count runs the relay pinned on one core and the generator on
# another, and prints every command it runs plus the RESULT lines. Figures go to BENCHMARKS.md.
#
#   bench/run-relay-bench.sh                      # defaults below
#   CALLS_LIST="500 1000" DURATION=20 bench/run-relay-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RELAY_CPU=${RELAY_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
CALLS_LIST=${CALLS_LIST:-"250 500 1000 1500 2000"}
WARMUP=${WARMUP:-3}
DURATION=${DURATION:-10}
PORT_START=${PORT_START:-20000}
MALLOC_CALLS=${MALLOC_CALLS:-500}
OUT=${OUT:-.build/relay-bench}
RELAY_ARGS=${RELAY_ARGS:-}   # e.g. "--vector 1 --reads 4" to compare NIO read settings

run() { echo "+ $*" >&2; "$@"; }

mkdir -p "$OUT"
run swift build -c release --product pbxd-bench
run cc -O2 -Wall -o "$OUT/rtp-loadgen" bench/rtp-loadgen.c
run cc -O2 -Wall -shared -fPIC -o "$OUT/libmalloc-count.so" bench/malloc-count.c
ulimit -n "$(ulimit -Hn)" || true

echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  nproc=$(nproc)  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# relay on cpu $RELAY_CPU, generator on cpu $GEN_CPU, warm-up ${WARMUP}s, window ${DURATION}s"

# one <calls> [preload]: one relay process with <calls> sessions, one generator run.
one() {
    local calls=$1 preload=${2:-}
    local ports="$OUT/ports-$calls.txt" log="$OUT/relay-$calls.log"
    rm -f "$ports"
    local env_args=()
    [ -n "$preload" ] && env_args=(env "LD_PRELOAD=$PWD/$OUT/libmalloc-count.so")
    echo "+ taskset -c $RELAY_CPU ${env_args[*]} .build/release/pbxd-bench relay --sessions $calls --port-start $PORT_START --ports-file $ports $RELAY_ARGS &" >&2
    taskset -c "$RELAY_CPU" "${env_args[@]}" .build/release/pbxd-bench relay \
        --sessions "$calls" --port-start "$PORT_START" --ports-file "$ports" $RELAY_ARGS > "$log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 600); do [ -f "$ports" ] && break; sleep 0.1; done
    if [ ! -f "$ports" ]; then echo "relay did not start:"; cat "$log"; kill "$pid"; return 1; fi
    run taskset -c "$GEN_CPU" "$OUT/rtp-loadgen" --ports-file "$ports" --calls "$calls" \
        --warmup "$WARMUP" --duration "$DURATION" --relay-pid "$pid"
    wait "$pid"
    cat "$log"
}

for calls in $CALLS_LIST; do
    one "$calls"
done
echo "# allocation count (malloc-count.so preloaded into the relay; its atomic counter adds a little CPU)"
one "$MALLOC_CALLS" preload

if [ "${SKIP_ALLOC_TEST:-0}" != 1 ]; then
    echo "# per-packet allocation tests with the counter preloaded"
    run env LD_PRELOAD="$PWD/$OUT/libmalloc-count.so" swift test --filter RelayAllocationTests
fi
