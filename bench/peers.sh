#!/usr/bin/env bash
# bench/peers.sh — the gateway side by side with peer MCP proxies (supergateway, mcp-proxy, mcp-hub, civic
# passthrough), all in front of the same @modelcontextprotocol/server-everything, in one interleaved run.
#
# Usage: bench/peers.sh [--n 2000] [--warmup 200] [--warmup-seconds 15] [--seconds 5] [--levels 1,8,32,128] [--rounds 1] [--fsync-n 2000]
#                       [--only direct,gateway,supergateway,mcp-proxy,mcp-hub,civic,floor] [--json FILE] [--keep-tmp]
#   --only      targets to run (direct, direct-stdio and direct-0618 always run: they are the baselines); "gateway" means
#               gateway-default, gateway-process (upstream over HTTP), gateway-stdio-default and gateway-stdio-process
#               (upstream over stdio, as mcp-proxy and supergateway reach it); "gateway-stdio" means the last two;
#               "floor" means floor-yarp and floor-node, bare proxies with no MCP processing (the hop alone, per runtime)
#   --warmup-seconds  a closed loop of 8 sessions per target before the latency phase (not measured; 0: none), so
#               every target is measured warm (a .NET process tiers its code up over its first minute of load)
#   --rounds    run every throughput level N times on every target (order rotating each round); each figure is the
#               median round, so one slow second of a noisy machine does not set a level's ratios
#   --json      also write every figure to FILE
#   --keep-tmp  keep the run's folder (logs, gateway databases) instead of deleting it
#   --candidate NAME[=DLL]  one more target, candidate-NAME: a gateway measured as gateway-process is, with the build DLL
#               (default: the gateway's build), interleaved with the rest; repeat it (at most 4) to compare a change
#               with the build before it in one run. --candidate-env NAME:VARIABLE=VALUE sets an environment variable
#               for it, --candidate-arg NAME:ARG adds a command-line argument (e.g. NAME:--Gateway:Audit:Durability=power)
# Environment: GATEWAY_DLL=/path/Gateway.Web.dll uses that build instead of building this repository;
#   BENCH_PEERS_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-gateway-bench/peers) holds the peers' npm packages;
#   SERVER_EVERYTHING_DIR (default $HOME/.cache/mcp-gateway-tests/server-everything-2026.8.31, shared with the tests).
# Prints per target the added p50/p90/p99 over its baseline (direct or direct-stdio) for sequential tools/call echo, throughput at each
# concurrency level with the CPU each process spent per call, the fdatasync latency of the gateway's data folder, and a
# summary. Loopback only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PROG=peers.sh
. "$HERE/lib/common.sh"

# Pinned: the figures are only comparable run to run with the same versions.
PEERS=(supergateway@4.0.0 mcp-proxy@6.7.19 mcp-hub@4.2.1 @civic/passthrough-mcp-server@0.12.1)
SE_VERSION=2026.8.31

N=2000 WARMUP=200 WARMUP_SECONDS=15 SECONDS_PER_LEVEL=5 LEVELS=1,8,32,128 ROUNDS=1 FSYNC_N=2000 ONLY="" JSON="" KEEP_TMP=0
CANDIDATES=() NEEDS_GATEWAY=0
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "peers.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --n) need "$@"; N="$2"; shift 2;;
    --warmup) need "$@"; WARMUP="$2"; shift 2;;
    --warmup-seconds) need "$@"; WARMUP_SECONDS="$2"; shift 2;;
    --seconds) need "$@"; SECONDS_PER_LEVEL="$2"; shift 2;;
    --levels) need "$@"; LEVELS="$2"; shift 2;;
    --rounds) need "$@"; ROUNDS="$2"; shift 2;;
    --fsync-n) need "$@"; FSYNC_N="$2"; shift 2;;
    --only) need "$@"; ONLY="$2"; shift 2;;
    --json) need "$@"; JSON="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2;;
    --keep-tmp) KEEP_TMP=1; shift;;
    --candidate) need "$@"; [[ "${2%%=*}" =~ ^[a-z0-9][a-z0-9-]{0,10}$ ]] || { echo "peers.sh: --candidate $2: the name must be 1-11 lower-case letters, digits or dashes" >&2; exit 2; }
      CANDIDATES+=("$1" "$2"); [[ "$2" == *=* ]] || NEEDS_GATEWAY=1; shift 2;;
    --candidate-env|--candidate-arg) need "$@"; CANDIDATES+=("$1" "$2"); shift 2;;
    -h|--help) usage; exit 0;;
    *) echo "peers.sh: unknown option $1" >&2; usage >&2; exit 2;;
  esac
done

# "direct" is implied; the rest must be known names (a typo would otherwise silently measure nothing).
# A name selects itself and every target it prefixes ("gateway" → gateway-*, "gateway-stdio" → gateway-stdio-*).
selected() {
  [ -z "$ONLY" ] && return 0
  local w
  for w in ${ONLY//,/ }; do { [ "$1" = "$w" ] || [[ "$1" == "$w"-* ]]; } && return 0; done
  return 1
}
for name in ${ONLY//,/ }; do
  case "$name" in direct|gateway|gateway-default|gateway-process|gateway-process-0618|gateway-stdio|gateway-stdio-default|gateway-stdio-process|supergateway|mcp-proxy|mcp-hub|civic|floor|floor-yarp|floor-node) ;;
    *) echo "peers.sh: unknown target '$name' in --only" >&2; exit 2;; esac
done

command -v node >/dev/null && command -v npm >/dev/null || { echo "peers.sh: node and npm are required" >&2; exit 1; }

# ---- packages (cache folders, never global; npm runs only when a pinned version is missing)
PEERS_DIR="${BENCH_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-gateway-bench/peers}"
bench_server_everything
missing=()
for spec in "${PEERS[@]}"; do
  short="${spec%@*}"; short="${short##*/}"; [ "$short" = passthrough-mcp-server ] && short=civic
  selected "$short" && ! installed "$PEERS_DIR" "$spec" && missing+=("$spec")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} into $PEERS_DIR"
  mkdir -p "$PEERS_DIR"
  npm install --prefix "$PEERS_DIR" --save-exact --no-audit --no-fund --loglevel=error "${missing[@]}" >&2
fi

# ---- the gateway: a given build, or this repository published as an operator deploys it (Release, ReadyToRun)
if [ "$NEEDS_GATEWAY" = 1 ] || selected gateway-default || selected gateway-process || selected gateway-stdio-default || selected gateway-stdio-process; then
  bench_gateway_dll
fi

# ---- the .NET floor: bench/Floor.Yarp published the same way as the gateway
if selected floor-yarp; then
  FLOOR_YARP_DLL="$REPO/bench/.publish/floor-yarp/Floor.Yarp.dll"
  echo "publishing $REPO/bench/Floor.Yarp (Release, ReadyToRun) to $(dirname "$FLOOR_YARP_DLL")"
  dotnet publish "$REPO/bench/Floor.Yarp" -c Release -r linux-x64 --self-contained false -o "$(dirname "$FLOOR_YARP_DLL")" -nologo -v quiet >&2 \
    || { echo "$PROG: publishing bench/Floor.Yarp failed" >&2; exit 1; }
fi

# ---- run: peers.mjs starts and stops every process; the trap catches what it could not (killed, crashed).
# (supergateway starts its stdio servers in process groups of their own: the mark finds them)
bench_run_folder mcp-gateway-bench

args=(--tmp "$TMP" --se-entry "$SE_ENTRY" --peers-dir "$PEERS_DIR" --n "$N" --warmup "$WARMUP" --warmup-seconds "$WARMUP_SECONDS" --seconds "$SECONDS_PER_LEVEL"
  --levels "$LEVELS" --rounds "$ROUNDS" --fsync-n "$FSYNC_N")
[ -n "${GATEWAY_DLL:-}" ] && args+=(--gateway-dll "$GATEWAY_DLL")
[ -n "${FLOOR_YARP_DLL:-}" ] && args+=(--floor-yarp-dll "$FLOOR_YARP_DLL")
[ -n "$ONLY" ] && args+=(--only "$ONLY")
[ -n "$JSON" ] && args+=(--json "$JSON")
[ ${#CANDIDATES[@]} -gt 0 ] && args+=("${CANDIDATES[@]}")
rc=0
node "$HERE/peers.mjs" "${args[@]}" || rc=$?
exit "$rc"
