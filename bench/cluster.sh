#!/usr/bin/env bash
# bench/cluster.sh — the gateway on PostgreSQL: SQLite vs PostgreSQL, 1 vs 2 instances behind HAProxy, and how fast
# a revoked key and an approval decision reach the other instance. One run, loopback only, in front of one
# @modelcontextprotocol/server-everything (streamable HTTP).
#
# Usage: bench/cluster.sh [--seconds 5] [--levels 1,8,32] [--rounds 3] [--n 600] [--warmup 100] [--reps 50]
#                         [--protocol 2026-07-28|2025-11-25] [--max-sessions 10000] [--quick] [--json FILE] [--keep-tmp]
#   --seconds   closed-loop time per level, target and round
#   --levels    concurrency levels (closed-loop clients, one call in flight each)
#   --rounds    how many times every level runs on every target (order rotating); figures pool the rounds
#   --n/--warmup sequential calls per target for the latency table (interleaved call by call)
#   --reps      repetitions of the revoke and of the approval measurement (at least 30 for a p99 worth reading)
#   --protocol  what the client speaks to the gateways: 2026-07-28 stateless requests (default) or 2025-11-25
#               sessions; server-everything (direct) speaks only 2025-11-25, so direct always uses sessions
#   --max-sessions  Gateway:Mcp:MaxSessionsPerAgent of every gateway (high: the cap is not what this measures)
#   --quick     --seconds 2 --levels 1,8 --rounds 1 --n 200 --warmup 50 --reps 30 (about 2 minutes after publishing)
#   --json      also write every figure to FILE
#   --keep-tmp  keep the run's folders (logs, databases, PostgreSQL's log) instead of deleting them
# Environment: GATEWAY_DLL=/path/Gateway.Web.dll uses that build instead of publishing this repository;
#   SERVER_EVERYTHING_DIR (default $HOME/.cache/mcp-gateway-tests/server-everything-2026.8.31, shared with the tests);
#   PG_BIN (default: the newest /usr/lib/postgresql/*/bin).
# Starts a private PostgreSQL cluster (fsync on; as the system user gwpg when run as root, as CI does), HAProxy
# 2.6 (/usr/sbin/haproxy), the gateways and server-everything; stops and removes all of it at the end.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PROG=cluster.sh
. "$HERE/lib/common.sh"
SE_VERSION=2026.8.31

SECS=5 LEVELS=1,8,32 ROUNDS=3 N=600 WARMUP=100 REPS=50 PROTOCOL=2026-07-28 MAX_SESSIONS=10000 JSON="" KEEP_TMP=0
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "cluster.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) need "$@"; SECS="$2"; shift 2;;
    --levels) need "$@"; LEVELS="$2"; shift 2;;
    --rounds) need "$@"; ROUNDS="$2"; shift 2;;
    --n) need "$@"; N="$2"; shift 2;;
    --warmup) need "$@"; WARMUP="$2"; shift 2;;
    --reps) need "$@"; REPS="$2"; shift 2;;
    --protocol) need "$@"; PROTOCOL="$2"; shift 2;;
    --max-sessions) need "$@"; MAX_SESSIONS="$2"; shift 2;;
    --quick) SECS=2 LEVELS=1,8 ROUNDS=1 N=200 WARMUP=50 REPS=30; shift;;
    --json) need "$@"; JSON="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2;;
    --keep-tmp) KEEP_TMP=1; shift;;
    -h|--help) usage; exit 0;;
    *) echo "cluster.sh: unknown option $1" >&2; usage >&2; exit 2;;
  esac
done
case "$PROTOCOL" in 2026-07-28|2025-11-25) ;; *) echo "cluster.sh: --protocol is 2026-07-28 or 2025-11-25" >&2; exit 2;; esac

command -v node >/dev/null && command -v npm >/dev/null || { echo "cluster.sh: node and npm are required" >&2; exit 1; }
HAPROXY=/usr/sbin/haproxy
[ -x "$HAPROXY" ] || { echo "cluster.sh: HAProxy not found at $HAPROXY (apt-get install haproxy)" >&2; exit 1; }
PG_BIN="${PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || { echo "cluster.sh: PostgreSQL's initdb/pg_ctl not found (PG_BIN=$PG_BIN)" >&2; exit 1; }

# ---- server-everything (shared with the tests and peers.sh); the gateway: a given build, or this repository published
bench_server_everything
bench_gateway_dll

# ---- cleanup: what cluster.mjs started (process groups, then anything carrying the run's mark), then PostgreSQL
TMP="$(mktemp -d "${TMPDIR:-/tmp}/mcp-gateway-cluster.XXXXXX")"
MARK="MCP_GATEWAY_BENCH_RUN=$TMP"
PG_DIR=""
as_pg() { if [ "$(id -u)" = 0 ]; then (cd "$PG_DIR" && runuser -u gwpg -- "$@"); else (cd "$PG_DIR" && "$@"); fi; }
cleanup() {
  bench_stop_processes "$TMP" "$MARK"
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -t 30 stop >/dev/null 2>&1 || true; fi
    if [ "$KEEP_TMP" = 1 ]; then cp "$PG_DIR/postgres.log" "$TMP/postgres.log" 2>/dev/null || true; fi
    rm -rf "$PG_DIR"
  fi
  if [ "$KEEP_TMP" = 1 ]; then echo "run folder kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- a private PostgreSQL cluster for this run (as .ci/run starts it): fresh data, loopback, durable (fsync on).
# PostgreSQL refuses to run as root: as root it runs as the system user gwpg (created if missing, as CI does).
if [ "$(id -u)" = 0 ]; then
  id -u gwpg >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin gwpg \
    || { echo "cluster.sh: could not create the system user gwpg for PostgreSQL" >&2; exit 1; }
fi
PG_DIR="$(mktemp -d /tmp/mcp-gateway-cluster-pg.XXXXXX)"
PG_PORT=$((56000 + RANDOM % 4000))
while (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; do PG_PORT=$((PG_PORT + 1)); done   # the first port nobody listens on
PG_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile"
[ "$(id -u)" = 0 ] && chown -R gwpg: "$PG_DIR"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U gateway --pwfile="$PG_DIR/pwfile" --auth=scram-sha-256 \
  --encoding=UTF8 --no-locale --no-instructions >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log" >&2; echo "cluster.sh: initdb failed" >&2; exit 1; }
rm -f "$PG_DIR/pwfile"
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=300 -c fsync=on" >/dev/null \
  || { cat "$PG_DIR/postgres.log" >&2; echo "cluster.sh: PostgreSQL did not start" >&2; exit 1; }
PGPASSWORD="$PG_PASSWORD" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U gateway gateway \
  || { echo "cluster.sh: createdb failed" >&2; exit 1; }
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (data in $PG_DIR/data, fsync on)"

# ---- run: cluster.mjs starts and stops the gateways, HAProxy and server-everything; the trap catches the rest.
args=(--tmp "$TMP" --se-entry "$SE_ENTRY" --gateway-dll "$GATEWAY_DLL" --haproxy "$HAPROXY" --pg-data "$PG_DIR/data"
  --seconds "$SECS" --levels "$LEVELS" --rounds "$ROUNDS" --n "$N" --warmup "$WARMUP" --reps "$REPS" --protocol "$PROTOCOL"
  --max-sessions "$MAX_SESSIONS")
[ -n "$JSON" ] && args+=(--json "$JSON")
rc=0
BENCH_PG="Host=127.0.0.1;Port=$PG_PORT;Username=gateway;Password=$PG_PASSWORD;Database=gateway" node "$HERE/cluster.mjs" "${args[@]}" || rc=$?
exit "$rc"
