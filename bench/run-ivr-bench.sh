#!/usr/bin/env bash
# IVR playback under load: N callers at once, each hearing a prompt played by pbxd (Playback in a
# loop: 50 packets/s per caller from pbxd's shared 20 ms media clock). pbxd runs pinned to ONE
# core (CPU 1); the callers' side — bench/ivr-calls.py (SIP) and bench/ivr-sink.c (RTP, kernel
# receive timestamps) — on CPU 0. For each caller count the sink prints how many packets arrived
# late against the RTP timestamps' 20 ms schedule (> 5, > 10, > 20 ms) and how many were lost.
#
# Also printed: how busy CPU 1 was over the window in all (other processes share it: taskset
# keeps pbxd on CPU 1, not everyone else off it). SCHED=rr runs pbxd with round-robin real-time
# priority (`chrt -r 10`), as Asterisk's `-p` does, so other work on CPU 1 cannot delay it.
#
#   bench/run-ivr-bench.sh                       # callers 100 250 500 1000 2000, 20 s measured each
#   CALLERS="100 300" DURATION=30 SCHED=rr bench/run-ivr-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CALLERS=${CALLERS:-"100 250 500 1000 2000"}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
SCHED=${SCHED:-normal}
RTP_BASE=${RTP_BASE:-12000}   # the callers' ports: 12000, 12002, ... (ivr-sink); below the ephemeral range
swift build -c release --product pbxd >/dev/null
mkdir -p .build
cc -O2 -Wall -o .build/ivr-sink bench/ivr-sink.c
PBXD=.build/release/pbxd
work=$(mktemp -d /tmp/pbxd-ivr.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
cpu1_busy() { awk '$1 == "cpu1" {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }   # busy idle
prio=(); [ "$SCHED" = rr ] && prio=(chrt -r 10)

SIP_PORT=$(free_port)
mkdir -p "$work/conf" "$work/data"
cat > "$work/conf/sip.conf" <<CONF
[general]
udpbindaddr=127.0.0.1:$SIP_PORT
tcpenable=no
realm=bench
allowguest=no
disallow=all
allow=ulaw
[callers]
type=peer
host=127.0.0.1
insecure=port,invite
context=bench
CONF
printf '[general]\nrtpstart=20000\nrtpend=29999\n' > "$work/conf/rtp.conf"
printf '[general]\nsoundsdir=%s/sounds\n' "$PWD" > "$work/conf/pbxd.conf"
printf '[bench]\nexten => 500,1,Answer()\n same => n(play),Playback(demo-congrats)\n same => n,Goto(play)\n' > "$work/conf/extensions.conf"

echo "# $(date -u '+%F %H:%M') UTC, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: CALLERS=\"$CALLERS\" DURATION=$DURATION WARMUP=$WARMUP SCHED=$SCHED bench/run-ivr-bench.sh"
for n in $CALLERS; do
    "${prio[@]}" taskset -c 1 "$PBXD" --config-dir "$work/conf" --data-dir "$work/data" --log-level warning > "$work/pbxd-$n.log" 2>&1 &
    pbxd=$!; pids+=("$pbxd"); sleep 1
    setup=$(python3 -c "print(int($n / 100) + 3)")   # ivr-calls.py sets up 100 calls/s
    taskset -c 0 .build/ivr-sink --base "$RTP_BASE" --callers "$n" --warmup $((WARMUP + setup)) --duration "$DURATION" \
        > "$work/sink-$n.txt" &
    sink=$!; pids+=("$sink")
    sleep 0.5
    taskset -c 0 python3 bench/ivr-calls.py --pbxd "127.0.0.1:$SIP_PORT" --calls "$n" --rtp-base "$RTP_BASE" \
        --hold $((WARMUP + setup + DURATION + 2)) > "$work/calls-$n.txt" &
    calls=$!; pids+=("$calls")
    sleep $((WARMUP + setup))
    before=$(cpu_ticks "$pbxd"); read -r busy0 idle0 < <(cpu1_busy)
    wait "$sink"
    after=$(cpu_ticks "$pbxd"); read -r busy1 idle1 < <(cpu1_busy)
    wait "$calls" || true
    cpu=$(echo "scale=1; ($after - $before) * 100 / $(getconf CLK_TCK) / $DURATION" | bc)
    cpu1=$(echo "scale=1; ($busy1 - $busy0) * 100 / ($busy1 - $busy0 + $idle1 - $idle0)" | bc)
    printf '%s | %s | pbxd CPU %s%% of one core, CPU 1 busy %s%% in all\n' "$(head -1 "$work/calls-$n.txt")" \
        "$(tail -1 "$work/sink-$n.txt")" "$cpu" "$cpu1"
    kill "$pbxd" 2>/dev/null || true; wait "$pbxd" 2>/dev/null || true
    grep -m3 -E 'error|critical' "$work/pbxd-$n.log" | sed 's/^/  pbxd: /' || true
done
