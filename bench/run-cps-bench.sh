#!/usr/bin/env bash
# Calls per second through pbxd with SIPp (signalling only: each call is INVITE, 200, ACK, BYE;
# pbxd still allocates and frees a relay session per call). Runs once with digest auth (every
# call challenged with 407 and answered) and once without (caller matched by address with
# insecure=port,invite). pbxd is pinned to CPU 0, the two SIPp instances to CPU 1.
#
#   bench/run-cps-bench.sh                  # rates 250 500 1000 1500 2000, 10 s each
#   RATES="1000" DURATION=20 bench/run-cps-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"250 500 1000 1500 2000"}
DURATION=${DURATION:-10}
swift build -c release --product pbxd >/dev/null
PBXD=.build/release/pbxd
work=$(mktemp -d /tmp/pbxd-cps.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

SIP_PORT=$(free_port); UAS_PORT=$(free_port); UAC_PORT=$(free_port)

write_config() { # $1 = auth|noauth
    local dir=$work/$1/conf; mkdir -p "$dir" "$work/$1/data"
    cat > "$dir/sip.conf" <<CONF
[general]
udpbindaddr=127.0.0.1:$SIP_PORT
tcpenable=no
realm=bench
allowguest=no
disallow=all
allow=ulaw
[1001]
type=friend
host=dynamic
secret=bench1001
context=bench
[uas]
type=peer
host=127.0.0.1
port=$UAS_PORT
context=bench
CONF
    if [ "$1" = noauth ]; then
        printf '[sippuac]\ntype=peer\nhost=127.0.0.1\ninsecure=port,invite\ncontext=bench\n' >> "$dir/sip.conf"
    fi
    printf '[general]\nrtpstart=20000\nrtpend=39999\n' > "$dir/rtp.conf"
    printf '[bench]\nexten => _X.,1,Dial(SIP/uas,10)\n same => n,Hangup()\n' > "$dir/extensions.conf"
}

run_mode() { # $1 = auth|noauth
    local mode=$1 scenario=bench/sipp/cps-uac.xml auth=()
    write_config "$mode"
    [ "$mode" = auth ] && { scenario=bench/sipp/cps-uac-auth.xml; auth=(-au 1001 -ap bench1001); }
    SWIFT_BACKTRACE=enable=yes,interactive=no,sanitize=no taskset -c 0 "$PBXD" --config-dir "$work/$mode/conf" --data-dir "$work/$mode/data" --log-level warning \
        > "$work/$mode/pbxd.log" 2>&1 &
    local pbxd=$!; pids+=("$pbxd"); sleep 1
    taskset -c 1 sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -nostdin -bg > /dev/null 2>&1 || true
    local uas; uas=$(pgrep -f "sipp -sn uas -i 127.0.0.1 -p $UAS_PORT" | head -1); pids+=("$uas")
    for rate in $RATES; do
        local calls=$((rate * DURATION)) before after out ok failed
        before=$(cpu_ticks "$pbxd"); local started=$SECONDS
        out=$(timeout $((DURATION * 3 + 15)) taskset -c 1 sipp 127.0.0.1:"$SIP_PORT" -sf "$scenario" -s 5000 "${auth[@]}" -i 127.0.0.1 \
            -p "$UAC_PORT" -r "$rate" -m "$calls" -l $((rate * 4)) -nostdin -timeout $((DURATION * 3)) -trace_err -error_file "$work/$mode-$rate-errors.log" 2>&1 || true)
        after=$(cpu_ticks "$pbxd")
        ok=$(echo "$out" | awk -F'|' '/Successful call/ {gsub(/ /,"",$3); print $3}' | tail -1)
        failed=$(echo "$out" | awk -F'|' '/Failed call/ {gsub(/ /,"",$3); print $3}' | tail -1)
        local elapsed=$((SECONDS - started))s
        local cpu_s; cpu_s=$(echo "scale=2; ($after - $before) / $(getconf CLK_TCK)" | bc)
        local us_per_call; us_per_call=$(echo "scale=1; ($after - $before) * 1000000 / $(getconf CLK_TCK) / (${ok:-0} + 1)" | bc)
        printf '%-7s rate=%-5s calls=%-6s ok=%-6s failed=%-5s elapsed=%s pbxd_cpu=%ss (%s us/call)\n' \
            "$mode" "$rate" "$calls" "${ok:-?}" "${failed:-?}" "$elapsed" "$cpu_s" "$us_per_call"
    done
    kill "$uas" "$pbxd" 2>/dev/null || true; wait "$pbxd" 2>/dev/null || true
    grep -h -m3 -v '^The following' "$work/$mode"-*-errors.log 2>/dev/null | sed 's/^/  sipp error: /' || true
}

echo "# $(date -u +%F) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# command: RATES=\"$RATES\" DURATION=$DURATION bench/run-cps-bench.sh"
run_mode noauth
run_mode auth
