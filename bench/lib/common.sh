# Sourced by the bench scripts (bench/peers.sh, bench/cluster.sh, bench/fixed-costs.sh). Expects REPO (the repository),
# PROG (the script's name, for messages) and SE_VERSION (the pinned server-everything).

# installed DIR NAME@VERSION: is exactly that version in DIR/node_modules?
installed() {
  local name="${2%@*}" version="${2##*@}"
  [ "$(node -e "try { console.log(require('$1/node_modules/$name/package.json').version) } catch {}")" = "$version" ]
}

# Sets SE_DIR and SE_ENTRY: the pinned @modelcontextprotocol/server-everything, shared with the tests' cache, installed
# there when missing (npm, never global).
bench_server_everything() {
  SE_DIR="${SERVER_EVERYTHING_DIR:-$HOME/.cache/mcp-gateway-tests/server-everything-$SE_VERSION}"
  SE_ENTRY="$SE_DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
  if ! installed "$SE_DIR" "@modelcontextprotocol/server-everything@$SE_VERSION"; then
    echo "installing @modelcontextprotocol/server-everything@$SE_VERSION into $SE_DIR"
    npm install --prefix "$SE_DIR" --no-audit --no-fund --loglevel=error "@modelcontextprotocol/server-everything@$SE_VERSION" >&2
  fi
}

# Sets GATEWAY_DLL to an absolute path: the build it names, or this repository published as an operator deploys it
# (Release, ReadyToRun) into bench/.publish/gateway.
bench_gateway_dll() {
  if [ -n "${GATEWAY_DLL:-}" ]; then
    [ -f "$GATEWAY_DLL" ] || { echo "$PROG: GATEWAY_DLL=$GATEWAY_DLL does not exist" >&2; exit 1; }
    GATEWAY_DLL="$(cd "$(dirname "$GATEWAY_DLL")" && pwd)/$(basename "$GATEWAY_DLL")"
  else
    local publish_dir="$REPO/bench/.publish/gateway"
    echo "publishing $REPO/Gateway.Web (Release, ReadyToRun) to $publish_dir"
    dotnet publish "$REPO/Gateway.Web" -c Release -r linux-x64 --self-contained false -o "$publish_dir" -nologo -v quiet >&2 \
      || { echo "$PROG: publishing the gateway failed" >&2; exit 1; }
    GATEWAY_DLL="$publish_dir/Gateway.Web.dll"
  fi
}

# bench_stop_processes TMP MARK: what the run's node script started and could not stop (killed, crashed): TERM the
# process groups it listed in TMP/pids, wait up to 5 s for every process carrying MARK in its environment, then KILL.
bench_stop_processes() {
  local tmp="$1" mark="$2" pids=() pid i
  [ -f "$tmp/pids" ] && mapfile -t pids < "$tmp/pids"
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  marked() { grep -lzxF "$mark" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 || true; }
  for i in $(seq 50); do
    [ -z "$(marked)" ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  for pid in $(marked); do kill -KILL "$pid" 2>/dev/null || true; done
}

# bench_run_folder NAME: makes the run's folder (TMP) and mark (MARK), and on exit stops what the run started and
# removes the folder (kept with KEEP_TMP=1). Scripts with more to clean up (cluster.sh's PostgreSQL) set their own trap.
bench_run_folder() {
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  MARK="MCP_GATEWAY_BENCH_RUN=$TMP"
  trap 'bench_stop_processes "$TMP" "$MARK"; if [ "${KEEP_TMP:-0}" = 1 ]; then echo "run folder kept: $TMP"; else rm -rf "$TMP"; fi' EXIT
  trap 'exit 130' INT TERM HUP
}
