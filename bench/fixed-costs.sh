#!/usr/bin/env bash
# bench/fixed-costs.sh — a gateway's fixed costs: start to the first successful tool call (fresh database, restart),
# resident memory once idle (and, with --smaps, what it is made of), idle CPU (with --cpu-marks), in front of
# @modelcontextprotocol/server-everything over streamable HTTP. Several builds are measured in alternating rounds.
#
# Usage: bench/fixed-costs.sh [--rounds 4] [--idle-seconds 8] [--smaps] [--sessions 1000] [--cpu-marks 60,360,960] [--json FILE] [--keep-tmp]
#                             [--build NAME=PATH ...] [--env NAME:VARIABLE=VALUE ...] [--database NAME=FILE ...] [--cold]
#                             [--upstream-delay MS]
#   --build      a published gateway to measure (Gateway.Web.dll, or the executable of a self-contained publish);
#                repeat it to compare builds round by round. Default: GATEWAY_DLL, or this repository published.
#   --env        an environment variable for the build NAME only (the same PATH under two names compares a runtime knob)
#   --cpu-marks  run the builds side by side after the rounds and print each one's CPU between these seconds after start
#   --smaps      print the first round's resident memory by kind (/proc/PID/smaps)
#   --sessions   after the idle figure, open N agent sessions (one call each), leave them open, and read it again
#   --database   each round also starts build NAME on a copy of FILE (a database of that build's schema, e.g. with a
#                million audit entries) and times its first call; --cold drops the page cache before it (root)
#   --upstream-delay  server-everything a round trip of MS away (a proxy in the bench holds each request and answer)
# Environment: GATEWAY_DLL=/path/Gateway.Web.dll as for bench/peers.sh; SERVER_EVERYTHING_DIR as for the tests.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PROG=fixed-costs.sh
. "$HERE/lib/common.sh"
SE_VERSION=2026.8.31

ROUNDS=4 IDLE=8 SMAPS=0 SESSIONS=0 DELAY=0 MARKS="" JSON="" KEEP_TMP=0 BUILDS=() ENVS=() DATABASES=() COLD=0
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "$PROG: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) need "$@"; ROUNDS="$2"; shift 2;;
    --idle-seconds) need "$@"; IDLE="$2"; shift 2;;
    --smaps) SMAPS=1; shift;;
    --sessions) need "$@"; SESSIONS="$2"; shift 2;;
    --cpu-marks) need "$@"; MARKS="$2"; shift 2;;
    --build) need "$@"; BUILDS+=("$2"); shift 2;;
    --env) need "$@"; ENVS+=("$2"); shift 2;;
    --database) need "$@"; DATABASES+=("$2"); shift 2;;
    --cold) COLD=1; shift;;
    --upstream-delay) need "$@"; DELAY="$2"; shift 2;;
    --json) need "$@"; JSON="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2;;
    --keep-tmp) KEEP_TMP=1; shift;;
    -h|--help) usage; exit 0;;
    *) echo "$PROG: unknown option $1" >&2; usage >&2; exit 2;;
  esac
done

command -v node >/dev/null && command -v npm >/dev/null || { echo "$PROG: node and npm are required" >&2; exit 1; }
bench_server_everything
if [ ${#BUILDS[@]} -eq 0 ]; then
  bench_gateway_dll
  BUILDS=("gateway=$GATEWAY_DLL")
fi

# ---- run: fixed-costs.mjs starts and stops every process; the trap catches what it could not (killed, crashed).
bench_run_folder mcp-gateway-fixed

args=(--tmp "$TMP" --se-entry "$SE_ENTRY" --rounds "$ROUNDS" --idle-seconds "$IDLE" --smaps "$SMAPS" --sessions "$SESSIONS" --upstream-delay "$DELAY")
for b in "${BUILDS[@]}"; do args+=(--build "$b"); done
for e in "${ENVS[@]}"; do args+=(--env "$e"); done
for d in "${DATABASES[@]}"; do args+=(--database "$d"); done
[ "$COLD" = 1 ] && args+=(--cold 1)
[ -n "$MARKS" ] && args+=(--cpu-marks "$MARKS")
[ -n "$JSON" ] && args+=(--json "$JSON")
rc=0
node "$HERE/fixed-costs.mjs" "${args[@]}" || rc=$?
exit "$rc"
