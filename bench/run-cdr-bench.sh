#!/usr/bin/env bash
# CDR rows/s under a call burst (BENCHMARKS.md "CDR writes"): builds pbxd-cdr-bench (release),
# runs it against SQLite alone, SQLite + Master.csv, and SQLite + a throw-away local PostgreSQL
# (initdb in a temp dir, loopback, run as the postgres user when root; fsync left ON so the
# figure is a durable one). Prints each command and its figures.
#
# usage: CALLS=20000 bench/run-cdr-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${CALLS:-20000}
SCRATCH=${SCRATCH:-.build-cdrrel}
swift build -c release --product pbxd-cdr-bench --scratch-path "$SCRATCH" >/dev/null
BIN="$SCRATCH/release/pbxd-cdr-bench"
DIR=$(mktemp -d /tmp/pbxd-cdr-bench.XXXXXX)

echo "== SQLite";            "$BIN" --calls "$CALLS" --dir "$DIR/a"
echo "== SQLite + CSV";      "$BIN" --calls "$CALLS" --csv --dir "$DIR/b"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -r | head -1 || true)
if [[ -z $PGBIN ]]; then echo "== PostgreSQL: skipped (no server binaries; apt package postgresql)"; exit 0; fi
AS=(); if (( EUID == 0 )); then AS=(runuser -u postgres --); chown postgres "$DIR"; fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${AS[@]}" "$PGBIN/initdb" -D "$DIR/pg" -A trust -U postgres >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null
trap '"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null; rm -rf "$DIR"' EXIT
echo "== SQLite + PostgreSQL (port $PORT)"; "$BIN" --calls "$CALLS" --pg "$PORT" --dir "$DIR/c"
