#!/usr/bin/env bash
# Install what pbxd needs and is missing; quiet and quick when everything is there.
#
# usage: scripts/install-deps.sh run     # what building and running pbxd needs
#        scripts/install-deps.sh test    # run + the interop test peers and tools
#        scripts/install-deps.sh bench   # run + what bench/ uses (C compiler, taskset, SIPp)
#
# Debian packages are checked with dpkg -s and installed with apt-get (which runs
# `apt-get update` first, once, and only when something is missing). Python
# packages come from pip only when python3 cannot import them.
set -euo pipefail
MODE=${1:-run}

# SwiftPM's own needs on Debian 12 (Swift itself is preinstalled at /opt/swift), and the C
# libraries pbxd links (libspandsp-dev: in-band DTMF, CSpanDSP; libopus-dev: Ogg/Opus
# recordings, COpus).
RUN_PKGS=(git ca-certificates binutils libc6-dev libstdc++-12-dev libcurl4 libxml2 libspandsp-dev libopus-dev
          libsqlite3-0 libedit2 zlib1g-dev pkg-config tzdata)
# The peers the interop suite drives, the tools it measures with, and a C compiler
# (make unit builds bench/malloc-count.c for the relay allocation tests).
TEST_PKGS=(sip-tester baresip-core linphone-cli sox libsox-fmt-base tcpdump iproute2 python3 gcc)
# The CDR tests start their own PostgreSQL server (initdb/pg_ctl in a temp dir) and query it with psql.
TEST_PKGS+=(postgresql postgresql-client sqlite3)
# opusdec decodes MixMonitor's Ogg/Opus recordings for measuring.
TEST_PKGS+=(opus-tools)
BENCH_PKGS=(gcc libc6-dev util-linux sip-tester iproute2 python3)
# Commands that must exist afterwards (a package can be "installed" but broken).
RUN_CMDS=(git pkg-config)
TEST_CMDS=(sipp baresip linphonec sox soxi tcpdump ss python3 cc psql opusdec)

log() { printf '[install-deps] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case $MODE in
    run)  PKGS=("${RUN_PKGS[@]}"); CMDS=("${RUN_CMDS[@]}") ;;
    test) PKGS=("${RUN_PKGS[@]}" "${TEST_PKGS[@]}"); CMDS=("${RUN_CMDS[@]}" "${TEST_CMDS[@]}") ;;
    bench) PKGS=("${RUN_PKGS[@]}" "${BENCH_PKGS[@]}"); CMDS=("${RUN_CMDS[@]}" cc taskset sipp ss python3) ;;
    *) die "unknown mode '$MODE' (run|test|bench)" ;;
esac

missing=()
for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if (( ${#missing[@]} )); then
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
    SUDO=; (( EUID == 0 )) || SUDO=sudo
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null || die "apt-get update failed"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi

for c in "${CMDS[@]}"; do
    command -v "$c" >/dev/null || die "'$c' is still not available after installing packages"
done

# Swift toolchain: preinstalled at /opt/swift on these machines; never downloaded here.
if ! command -v swift >/dev/null && [[ ! -x /opt/swift/usr/bin/swift ]]; then
    die "swift not found (expected on PATH or at /opt/swift/usr/bin/swift)"
fi

if [[ $MODE == test ]]; then
    # The interop suite is plain python3 stdlib + pytest.
    if ! python3 -c 'import pytest' 2>/dev/null; then
        log "installing pytest (pip)"
        python3 -m pip install -q pytest || die "pip install pytest failed"
        python3 -c 'import pytest' || die "pytest still not importable"
    fi
    # test_agi.py runs AGI clients CRM modules are built on: a local script with pyst2 and a
    # FastAGI server with panoramisk.
    if ! python3 -c 'import asterisk.agi' 2>/dev/null; then
        log "installing pyst2 (pip)"
        python3 -m pip install -q pyst2==0.5.1 || die "pip install pyst2 failed"
        python3 -c 'import asterisk.agi' || die "pyst2 still not importable"
    fi
    if ! python3 -c 'import panoramisk.fast_agi' 2>/dev/null; then
        log "installing panoramisk (pip)"
        python3 -m pip install -q panoramisk==1.4 || die "pip install panoramisk failed"
        python3 -c 'import panoramisk.fast_agi' || die "panoramisk still not importable"
    fi
    # test_ami.py drives three AMI client libraries: pyst2's manager and panoramisk (above) and
    # asterisk-ami.
    if ! python3 -c 'import asterisk.ami' 2>/dev/null; then
        log "installing asterisk-ami (pip)"
        python3 -m pip install -q asterisk-ami==0.1.7 || die "pip install asterisk-ami failed"
        python3 -c 'import asterisk.ami' || die "asterisk-ami still not importable"
    fi
    # baresip modules the driver loads
    for m in stdio g711 alsa aufile sndfile account menu uuid; do
        [[ -e /usr/lib/baresip/modules/$m.so ]] || die "baresip module $m.so missing (baresip-core broken?)"
    done
fi
exit 0
