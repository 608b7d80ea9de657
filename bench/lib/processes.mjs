// The benches' child processes. Each one leads its own process group (so a stop reaches its children) and carries
// the run's mark in its environment (so children that leave the group, like supergateway's detached stdio servers,
// are still found at the end, and the shell wrapper's trap finds whatever this process could not stop).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** @param {string} tmp the run's folder: logs and the pid list the shell wrapper's trap reads. */
export function processes(tmp) {
  const mark = `MCP_GATEWAY_BENCH_RUN=${tmp}`;
  const [markName, markValue] = [mark.slice(0, mark.indexOf('=')), mark.slice(mark.indexOf('=') + 1)];
  const procs = [];
  const pidFile = path.join(tmp, 'pids');

  // ownLog: the process keeps a log file of its own; its output is then dropped rather than written twice.
  // pipeStdout: the caller reads the process's stdout (a stdio MCP server); its stderr still goes to the log.
  function start(name, cmd, args, { env = {}, cwd, ownLog, pipeStdout } = {}) {
    const log = ownLog ?? path.join(tmp, `${name}.log`);
    const fd = fs.openSync(ownLog ? '/dev/null' : log, 'a');
    // stdin is a pipe we never close: supergateway exits when its stdin closes; if this process dies, so do they.
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env, [markName]: markValue }, detached: true, stdio: ['pipe', pipeStdout ? 'pipe' : fd, fd] });
    fs.closeSync(fd);
    child.stdin.on('error', () => {});
    const p = { name, child, log, exited: undefined };
    if (child.pid) fs.appendFileSync(pidFile, `${child.pid}\n`);
    child.on('exit', (code, sig) => { p.exited = `exited with ${sig ?? `code ${code}`}`; });
    child.on('error', (e) => { p.exited = `could not start: ${e.message}`; });
    procs.push(p);
    return p;
  }

  const groupAlive = (pid) => { try { process.kill(-pid, 0); return true; } catch { return false; } };
  function markedPids() {
    const found = [];
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
      try { if (fs.readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(mark)) found.push(Number(d)); } catch { /* gone or not ours */ }
    }
    return found;
  }

  // TERM one process's group (the gateway signs its audit checkpoint on a graceful stop), give it 5 s, then KILL it.
  async function stop(p) {
    if (!p.child.pid) return;
    try { process.kill(-p.child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const until = Date.now() + 5000;
    while (Date.now() < until && groupAlive(p.child.pid)) await delay(50);
    try { process.kill(-p.child.pid, 'SIGKILL'); } catch { /* gone */ }
  }

  // The same for every group, the last started first (a gateway stops before its upstream, a balancer before the
  // gateways, so no log shows a part it depends on going away at the end), then KILL whatever still carries this run's
  // mark. Bounded (5 s a group); the shell wrapper's trap repeats it if this process is killed.
  let stopping;
  function stopAll() {
    stopping ??= (async () => {
      for (const p of [...procs].reverse()) if (p.child.pid && groupAlive(p.child.pid)) await stop(p);
      const until = Date.now() + 5000;
      while (Date.now() < until && markedPids().length) await delay(50);
      for (const pid of markedPids()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    })();
    return stopping;
  }

  return { procs, start, stop, stopAll, markedPids };
}

/** Clock ticks per second of the CPU times in /proc/PID/stat (USER_HZ; 100 on Linux on x86). */
export const TICKS_PER_SECOND = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

/**
 * CPU time so far (utime + stime, clock ticks) and parent of each root process and of every descendant, by pid, in one
 * pass over /proc. Descendants count whether or not they carry the run's mark: the gateway starts a stdio server with
 * only the environment it is configured to pass, and PostgreSQL's postmaster forks its own.
 * @param {Iterable<number>} roots
 */
export function cpuTicks(roots) {
  const all = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');   // f[0] is field 3 (state), f[1] the parent; utime, stime are fields 14, 15
      all.set(Number(d), { ticks: Number(f[11]) + Number(f[12]), parent: Number(f[1]) });
    } catch { /* exited meanwhile */ }
  }
  const found = new Map();
  for (const pid of roots) if (all.has(pid)) found.set(pid, all.get(pid));
  for (let grew = true; grew;) {   // ends: each pass only adds processes not found yet
    grew = false;
    for (const [pid, p] of all) if (!found.has(pid) && found.has(p.parent)) { found.set(pid, p); grew = true; }
  }
  return found;
}

/**
 * Waits until the processes found from roots() are quiet (the same set, under 10% of a core for 300 ms), so one
 * target's teardown is not measured as the next one's cost. Bounded: false after maxMs.
 * @param {() => Iterable<number>} roots
 * @param {{ maxMs: number, check?: () => void }} options check throws to stop waiting (an interrupt)
 */
export async function settle(roots, { maxMs, check = () => {} }) {
  const until = Date.now() + maxMs;
  const quiet = Math.max(1, Math.round(0.03 * TICKS_PER_SECOND));   // 10% of a core over 300 ms
  let prev = cpuTicks(roots());
  while (Date.now() < until) {
    await delay(300);
    check();
    const cur = cpuTicks(roots());
    let used = 0, changed = cur.size !== prev.size;
    for (const [pid, { ticks }] of cur) { if (prev.has(pid)) used += ticks - prev.get(pid).ticks; else changed = true; }
    if (!changed && used <= quiet) return true;
    prev = cur;
  }
  return false;
}
