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
MALLOC_CALLS=${MALLOC_CALLS:-1000}
C_CALLS_LIST=${C_CALLS_LIST:-"250 500 1000 1500 2000"}   # the C baseline relay, same loads
OUT=${OUT:-.build/relay-bench}
RELAY_ARGS=${RELAY_ARGS:-}   # e.g. "--vector 1 --reads 4" to compare NIO read settings

run() { echo "+ $*" >&2; "$@"; }

mkdir -p "$OUT"
run swift build -c release --product pbxd-bench
run cc -O2 -Wall -o "$OUT/rtp-loadgen" bench/rtp-loadgen.c
run cc -O2 -Wall -o "$OUT/c-relay" bench/c-relay.c
run cc -O2 -Wall -shared -fPIC -o "$OUT/libmalloc-count.so" bench/malloc-count.c
ulimit -n "$(ulimit -Hn)" || true

echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  nproc=$(nproc)  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# relay on cpu $RELAY_CPU, generator on cpu $GEN_CPU, warm-up ${WARMUP}s, window ${DURATION}s"

# one <calls> <swift|swift-malloc|c>: one relay process with <calls> sessions, one generator run.
one() {
    local calls=$1 kind=$2
    local ports="$OUT/ports-$calls.txt" log="$OUT/relay-$kind-$calls.log"
    rm -f "$ports"
    local cmd=(.build/release/pbxd-bench relay --sessions "$calls" --port-start "$PORT_START" --ports-file "$ports")
    # shellcheck disable=SC2206
    [ -n "$RELAY_ARGS" ] && cmd+=($RELAY_ARGS)
    case "$kind" in
        swift-malloc) cmd=(env "LD_PRELOAD=$PWD/$OUT/libmalloc-count.so" "${cmd[@]}") ;;
        c) cmd=("$OUT/c-relay" --sessions "$calls" --port-start "$PORT_START" --ports-file "$ports") ;;
    esac
    echo "+ taskset -c $RELAY_CPU ${cmd[*]} &" >&2
    taskset -c "$RELAY_CPU" "${cmd[@]}" > "$log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 600); do [ -f "$ports" ] && break; sleep 0.1; done
    if [ ! -f "$ports" ]; then echo "relay did not start:"; cat "$log"; kill "$pid"; return 1; fi
    echo "# load: $(cut -d' ' -f1-3 /proc/loadavg) (other users of this machine)"
    run taskset -c "$GEN_CPU" "$OUT/rtp-loadgen" --ports-file "$ports" --calls "$calls" \
        --warmup "$WARMUP" --duration "$DURATION" --relay-pid "$pid"
    wait "$pid"
    cat "$log"
}

for calls in $CALLS_LIST; do
    one "$calls" swift
done
echo "# baseline: minimal C relay (bench/c-relay.c), same generator and loads"
for calls in $C_CALLS_LIST; do
    one "$calls" c
done
echo "# allocation count (malloc-count.so preloaded into the relay; its atomic counter adds a little CPU)"
one "$MALLOC_CALLS" swift-malloc

if [ "${SKIP_ALLOC_TEST:-0}" != 1 ]; then
    echo "# per-packet allocation tests with the counter preloaded"
    run env LD_PRELOAD="$PWD/$OUT/libmalloc-count.so" swift test --filter RelayAllocationTests
fi
