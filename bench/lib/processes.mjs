// The benches' child processes. Each one leads its own process group (so a stop reaches its children) and carries
// the run's mark in its environment (so children that leave the group, like supergateway's detached stdio servers,
// are still found at the end, and the shell wrapper's trap finds whatever this process could not stop).
import { spawn } from 'node:child_process';
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

  // The same for every group, then KILL whatever still carries this run's mark. Bounded; the shell wrapper's trap
  // repeats it if this process is killed.
  let stopping;
  function stopAll() {
    stopping ??= (async () => {
      for (const p of procs) if (p.child.pid) { try { process.kill(-p.child.pid, 'SIGTERM'); } catch { /* already gone */ } }
      const until = Date.now() + 5000;
      while (Date.now() < until && (procs.some((p) => p.child.pid && groupAlive(p.child.pid)) || markedPids().length)) await delay(50);
      for (const p of procs) if (p.child.pid) { try { process.kill(-p.child.pid, 'SIGKILL'); } catch { /* gone */ } }
      for (const pid of markedPids()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    })();
    return stopping;
  }

  return { procs, start, stop, stopAll, markedPids };
}
