#!/usr/bin/env bash
# The manager port under load: SIPp drives calls through pbxd (signalling only, as in
# run-cps-bench.sh) while N AMI clients are logged in with every event on and one more client
# publishes UserEvents and places a probe call twice a second to time SIP INVITE → Newchannel on
# the manager sockets (bench/ami_fanout.py). Runs once without AMI clients and once with them;
# the difference in pbxd's CPU is what the manager adds. pbxd on CPU 0, SIPp and the Python
# clients on CPU 1.
#
#   bench/run-ami-bench.sh                        # 50 clients, 100 calls/s, 200 UserEvents/s, 10 s
#   CLIENTS=50 CPS=100 UE_RATE=500 DURATION=20 bench/run-ami-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-50}
CPS=${CPS:-100}
UE_RATE=${UE_RATE:-200}
DURATION=${DURATION:-10}
swift build -c release --product pbxd >/dev/null
PBXD=.build/release/pbxd
work=$(mktemp -d /tmp/pbxd-ami.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

SIP_PORT=$(free_port); UAS_PORT=$(free_port); UAC_PORT=$(free_port); AMI_PORT=$(free_port)
conf=$work/conf; mkdir -p "$conf" "$work/data"
cat > "$conf/sip.conf" <<CONF
[general]
udpbindaddr=127.0.0.1:$SIP_PORT
tcpenable=no
allowguest=no
disallow=all
allow=ulaw
[uas]
type=peer
host=127.0.0.1
port=$UAS_PORT
context=bench
[sippuac]
type=peer
host=127.0.0.1
insecure=port,invite
context=bench
CONF
printf '[general]\nrtpstart=20000\nrtpend=39999\n' > "$conf/rtp.conf"
printf '[bench]\nexten => _X.,1,Dial(SIP/uas,10)\n same => n,Hangup()\n' > "$conf/extensions.conf"
printf '[general]\nenabled=yes\nport=%s\nbindaddr=127.0.0.1\nauthlimit=200\n[bench]\nsecret=benchpass\nread=all\nwrite=all\n' \
    "$AMI_PORT" > "$conf/manager.conf"

taskset -c 0 "$PBXD" --config-dir "$conf" --data-dir "$work/data" --log-level warning > "$work/pbxd.log" 2>&1 &
pbxd=$!; pids+=("$pbxd"); sleep 1
taskset -c 1 sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -nostdin -bg > /dev/null 2>&1 || true
uas=$(pgrep -f "sipp -sn uas -i 127.0.0.1 -p $UAS_PORT" | head -1); pids+=("$uas")

calls() { # runs DURATION seconds of calls at CPS; prints "ok failed"
    local out
    out=$(timeout $((DURATION * 3 + 15)) taskset -c 1 sipp 127.0.0.1:"$SIP_PORT" -sf bench/sipp/cps-uac.xml -s 5000 -i 127.0.0.1 \
        -p "$UAC_PORT" -r "$CPS" -m $((CPS * DURATION)) -l $((CPS * 4)) -nostdin -timeout $((DURATION * 3)) 2>&1 || true)
    echo "$(echo "$out" | awk -F'|' '/Successful call/ {gsub(/ /,"",$3); print $3}' | tail -1)" \
         "$(echo "$out" | awk -F'|' '/Failed call/ {gsub(/ /,"",$3); print $3}' | tail -1)"
}

echo "# $(date -u +%F) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# command: CLIENTS=$CLIENTS CPS=$CPS UE_RATE=$UE_RATE DURATION=$DURATION bench/run-ami-bench.sh"
tck=$(getconf CLK_TCK)

before=$(cpu_ticks "$pbxd"); read -r ok failed < <(calls); after=$(cpu_ticks "$pbxd")
printf 'no AMI clients:   calls ok=%s failed=%s  pbxd cpu=%.2fs\n' "$ok" "$failed" "$(echo "($after - $before) / $tck" | bc -l)"

taskset -c 1 python3 bench/ami_fanout.py --port "$AMI_PORT" --user bench --secret benchpass --clients "$CLIENTS" \
    --rate "$UE_RATE" --duration $((DURATION + 2)) --sip "127.0.0.1:$SIP_PORT" > "$work/fanout.json" &
fan=$!; pids+=("$fan"); sleep 1.5
before=$(cpu_ticks "$pbxd"); read -r ok failed < <(calls); after=$(cpu_ticks "$pbxd")
wait "$fan" || true
printf '%s AMI clients:   calls ok=%s failed=%s  pbxd cpu=%.2fs\n' "$CLIENTS" "$ok" "$failed" "$(echo "($after - $before) / $tck" | bc -l)"
echo "fan-out: $(cat "$work/fanout.json")"
grep -h -m5 -i "warning\|error" "$work/pbxd.log" | sed 's/^/  pbxd: /' || true
