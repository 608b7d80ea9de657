#!/usr/bin/env node
// bench/fixed-costs.mjs — what a gateway costs before and between calls: start to the first successful tool call (on a
// fresh database and on a restart), resident memory once idle and what it is made of, and idle CPU. Started by
// bench/fixed-costs.sh, which installs server-everything and builds the gateway. With several builds, every round runs
// each of them in turn and the idle CPU phase runs them side by side, so a change is measured against its baseline
// under the same machine load (report the ratio, not one absolute figure, on a noisy machine).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { processes } from './lib/processes.mjs';

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d; };
const all = (k) => argv.flatMap((a, i) => (a === `--${k}` && i + 1 < argv.length ? [argv[i + 1]] : []));
const int = (k, d) => { const v = Number(opt(k, d)); if (!Number.isInteger(v) || v < 0) die(`--${k} must be a whole number`); return v; };
function die(msg) { console.error(`fixed-costs.mjs: ${msg}`); process.exit(2); }

const cfg = {
  tmp: opt('tmp'), seEntry: opt('se-entry'), rounds: int('rounds', 4), idleSeconds: int('idle-seconds', 8), smaps: int('smaps', 0), sessions: int('sessions', 0),
  upstreamDelay: int('upstream-delay', 0),
  cpuMarks: (opt('cpu-marks', '') ?? '').split(',').filter(Boolean).map(Number), json: opt('json'), startTimeout: int('start-timeout', 60),
  builds: all('build').map((b) => { const i = b.indexOf('='); return i > 0 ? { name: b.slice(0, i), path: b.slice(i + 1), env: {} } : { name: path.basename(path.dirname(b)), path: b, env: {} }; }),
};
// --env NAME:VARIABLE=VALUE: an environment variable for one build (a runtime knob measured against the same build without it).
for (const e of all('env')) {
  const m = e.match(/^([^:]+):([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
  const b = m && cfg.builds.find((x) => x.name === m[1]);
  if (!b) die(`--env ${e}: expected NAME:VARIABLE=VALUE for a build named by --build`);
  b.env[m[2]] = m[3];
}
// --database NAME=FILE: each round also starts the build on a copy of FILE (a database it can run on, e.g. one with a
// million audit entries); --cold drops the page cache before that start (root only), as after a reboot.
for (const d of all('database')) {
  const i = d.indexOf('=');
  const b = i > 0 && cfg.builds.find((x) => x.name === d.slice(0, i));
  if (!b || !fs.existsSync(d.slice(i + 1))) die(`--database ${d}: expected NAME=FILE for a build named by --build and an existing file`);
  b.database = d.slice(i + 1);
}
cfg.cold = all('cold').length > 0 || process.argv.includes('--cold');
if (!cfg.tmp || !cfg.seEntry || !cfg.builds.length) die('--tmp, --se-entry and at least one --build are required (run bench/fixed-costs.sh)');
if (cfg.rounds < 1) die('--rounds must be at least 1');
if (cfg.cpuMarks.some((m, i) => !(m > 0) || (i > 0 && m <= cfg.cpuMarks[i - 1]))) die('--cpu-marks must be increasing seconds after start');
for (const b of cfg.builds) if (!fs.existsSync(b.path)) die(`build ${b.name}: ${b.path} does not exist`);

const KEY = `bench-${crypto.randomBytes(16).toString('hex')}`;
const { start, stop, stopAll } = processes(cfg.tmp);
process.on('SIGINT', () => { stopAll().finally(() => process.exit(130)); });
process.on('SIGTERM', () => { stopAll().finally(() => process.exit(143)); });

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }).on('error', reject);
});
const load = () => os.loadavg()[0].toFixed(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const fmt = (xs, d = 2) => xs.map((x) => x.toFixed(d)).join(', ');

// ---------------------------------------------------------------- MCP over fetch (what a first client does)
async function post(port, body, sid) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${KEY}` };
  if (sid) headers['mcp-session-id'] = sid;
  const r = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  return { status: r.status, sid: r.headers.get('mcp-session-id'), text: await r.text() };
}
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fixed-costs', version: '1' } } };
const CALL = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'first' } } };

// --upstream-delay MS: server-everything as an upstream a network's round trip of MS away. Each request waits MS/2 before
// it is passed on and each answer's head MS/2 before it is passed back; the body then streams as it comes.
async function delayingProxy(targetPort, ms) {
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => setTimeout(() => {
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, path: req.url, method: req.method, headers: req.headers, agent }, (answer) =>
      setTimeout(() => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res); }, ms / 2));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }, ms / 2));
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  server.unref();
  return `http://127.0.0.1:${server.address().port}/mcp`;
}

// Starts a gateway and polls (every 10 ms, through connection refusals and 503s) until initialize and then a tools/call
// through to server-everything succeed. Returns the process and the seconds from spawn to each.
async function launch(build, dataDir, upstreamUrl, label) {
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const isDll = build.path.endsWith('.dll');
  const t0 = performance.now();
  const p = start(label, isDll ? 'dotnet' : build.path, [...(isDll ? [build.path] : []),
    `--urls=http://127.0.0.1:${port}`, '--environment=Production', `--ConnectionStrings:Gateway=Data Source=${path.join(dataDir, 'gateway.db')}`,
    '--Logging:LogLevel:Default=Warning', `--Gateway:Admin:ApiKey=${crypto.randomBytes(24).toString('hex')}`,
    `--Gateway:Admin:BootstrapPassword=${crypto.randomBytes(12).toString('hex')}`, `--Gateway:Agents:bench:ApiKey=${KEY}`,
    '--Gateway:Agents:bench:Grants:0=everything/*', '--Gateway:Servers:everything:Transport=http', `--Gateway:Servers:everything:Url=${upstreamUrl}`,
    // --sessions opens them all as the one agent: its cap on sessions (default 100) must not refuse them.
    ...(cfg.sessions > 0 ? [`--Gateway:Mcp:MaxSessionsPerAgent=${cfg.sessions + 10}`] : [])],
  { cwd: path.dirname(build.path), env: build.env });
  const deadline = t0 + cfg.startTimeout * 1000;
  const s = () => (performance.now() - t0) / 1000;
  let init, initAt, callAt;
  while (!initAt) {
    if (p.exited) throw new Error(`${label} ${p.exited}: ${tail(p.log)}`);
    if (performance.now() > deadline) throw new Error(`${label}: no initialize within ${cfg.startTimeout} s: ${tail(p.log)}`);
    try { init = await post(port, INIT); if (init.status === 200 && init.sid) initAt = s(); } catch { /* not listening yet */ }
    if (!initAt) await delay(10);
  }
  await post(port, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.sid);
  while (!callAt) {
    if (performance.now() > deadline) throw new Error(`${label}: no successful call within ${cfg.startTimeout} s: ${tail(p.log)}`);
    const r = await post(port, CALL, init.sid);
    if (r.status === 200 && r.text.includes('Echo: first')) callAt = s(); else await delay(10);
  }
  // The CPU the process spent to get there (user + system): on a loaded machine less noisy than the wall clock.
  const cpuAt = cpuTicks(p.child.pid) / TICKS;
  return { p, port, initAt, callAt, cpuAt, spawnedAt: t0 };
}
// --sessions: N agent sessions (initialize, initialized, one tools/call each) opened 16 at a time and left open, as
// agents that connected and went quiet leave them. Returns how many calls were answered.
async function openSessions(port, n) {
  let next = 0, ok = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const init = await post(port, INIT);
      if (init.status !== 200 || !init.sid) continue;
      await post(port, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.sid);
      const r = await post(port, CALL, init.sid);
      if (r.status === 200 && r.text.includes('Echo: first')) ok++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return ok;
}

// The kernel's clean page cache, so the next start reads the database from the disk (needs root; otherwise a note).
function dropPageCache() {
  try { execFileSync('sync'); fs.writeFileSync('/proc/sys/vm/drop_caches', '3'); } catch (e) { console.log(`  (page cache not dropped: ${e.message})`); }
}
const tail = (log) => { try { return fs.readFileSync(log, 'utf8').split('\n').slice(-8).join('\n'); } catch { return ''; } };

const rssMb = (pid) => Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
const cpuTicks = (pid) => { const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); };
const TICKS = 100;   // USER_HZ on Linux

// Resident memory by what it maps: the classes README's Fixed costs table reports.
// Also the largest files by resident memory, and how much of each is private (written: relocated or copied pages).
function composition(pid, buildDir) {
  const sum = new Map();
  const files = new Map();
  let cur = 'anonymous (GC heap, native)';
  let file = null;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = line.match(/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/);
    if (m) {
      const f = m[1];
      cur = !f || f.startsWith('[') ? 'anonymous (GC heap, native)'
        : f.includes('doublemapper') ? 'executable memory (the runtime\'s type descriptors, stubs, jitted code)'
        : /\.so(\.|$)/.test(f) ? 'native libraries'
        : f.startsWith(buildDir) ? 'the gateway\'s and its packages\' assemblies'
        : f.endsWith('.dll') ? 'the framework\'s assemblies' : 'other mapped files';
      file = f && !f.startsWith('[') ? path.basename(f.replace(/ \(deleted\)$/, '')) : '(anonymous)';
      continue;
    }
    const r = line.match(/^(Rss|Private_Dirty):\s+(\d+)/);
    if (!r) continue;
    const kb = Number(r[2]) / 1024;
    const entry = files.get(file) ?? { rss: 0, dirty: 0 };
    if (r[1] === 'Rss') { sum.set(cur, (sum.get(cur) ?? 0) + kb); entry.rss += kb; } else entry.dirty += kb;
    files.set(file, entry);
  }
  return {
    kinds: Object.fromEntries([...sum].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number(v.toFixed(1))])),
    files: [...files].sort((a, b) => b[1].rss - a[1].rss).slice(0, 20).map(([f, v]) => ({ file: f, rss: Number(v.rss.toFixed(1)), privateDirty: Number(v.dirty.toFixed(1)) })),
  };
}

// ---------------------------------------------------------------- run
const results = Object.fromEntries(cfg.builds.map((b) => [b.name, { path: b.path, fresh: [], restart: [], freshCpu: [], restartCpu: [], rss: [], composition: null, idleCpu: [] }]));
try {
  const upPort = await freePort();
  start('server-everything', process.execPath, [cfg.seEntry, 'streamableHttp'], { env: { PORT: String(upPort) } });
  let upstreamUrl = `http://127.0.0.1:${upPort}/mcp`;
  for (let until = Date.now() + 30_000; ; await delay(100)) {
    try { await fetch(upstreamUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' }); break; } catch { if (Date.now() > until) throw new Error('server-everything did not listen within 30 s'); }
  }
  if (cfg.upstreamDelay > 0) upstreamUrl = await delayingProxy(upPort, cfg.upstreamDelay);
  const envText = (b) => Object.entries(b.env).map(([k, v]) => ` ${k}=${v}`).join('');
  console.log(`fixed costs: ${cfg.builds.map((b) => `${b.name} (${b.path}${envText(b)})`).join(', ')}; ${cfg.rounds} rounds, ${os.cpus().length} cores, load ${load()} at start`);
  const away = cfg.upstreamDelay > 0 ? `; server-everything a round trip of ${cfg.upstreamDelay} ms away: a proxy in this process holds each request and each answer's head half of it` : '';
  console.log(`start to first call: spawn to a successful initialize and tools/call echo through to server-everything (streamable HTTP); memory ${cfg.idleSeconds} s after that call${away}\n`);
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const b of cfg.builds) {
      const r = results[b.name];
      const dataDir = path.join(cfg.tmp, `${b.name}-${round}`);
      const fresh = await launch(b, dataDir, upstreamUrl, `${b.name}-${round}-fresh`);
      await delay(cfg.idleSeconds * 1000);
      const rss = rssMb(fresh.p.child.pid);
      if (cfg.smaps && !r.composition) r.composition = composition(fresh.p.child.pid, path.dirname(b.path) + path.sep);
      let sessionsText = '';
      if (cfg.sessions > 0) {
        const answered = await openSessions(fresh.port, cfg.sessions);
        if (answered !== cfg.sessions) throw new Error(`${b.name}: ${answered} of ${cfg.sessions} sessions' calls answered`);
        await delay(cfg.idleSeconds * 1000);
        (r.sessionsRss ??= []).push(rssMb(fresh.p.child.pid));
        sessionsText = `; with ${cfg.sessions} open sessions ${r.sessionsRss.at(-1).toFixed(0)} MB`;
      }
      await stop(fresh.p);
      const again = await launch(b, dataDir, upstreamUrl, `${b.name}-${round}-restart`);
      await stop(again.p);
      r.fresh.push(fresh.callAt); r.restart.push(again.callAt); r.freshCpu.push(fresh.cpuAt); r.restartCpu.push(again.cpuAt); r.rss.push(rss);
      let existingText = '';
      if (b.database) {
        const dir = path.join(cfg.tmp, `${b.name}-${round}-existing`);
        fs.mkdirSync(dir, { recursive: true });
        fs.copyFileSync(b.database, path.join(dir, 'gateway.db'));
        if (cfg.cold) dropPageCache();
        const existing = await launch(b, dir, upstreamUrl, `${b.name}-${round}-existing`);
        await stop(existing.p);
        fs.rmSync(dir, { recursive: true, force: true });
        (r.existing ??= []).push(existing.callAt);
        existingText = `; on ${path.basename(b.database)}${cfg.cold ? ' (cold)' : ''}: first call ${existing.callAt.toFixed(2)} s (CPU ${existing.cpuAt.toFixed(2)} s)`;
      }
      console.log(`round ${round} ${b.name.padEnd(14)} fresh database: initialize ${fresh.initAt.toFixed(2)} s, first call ${fresh.callAt.toFixed(2)} s (CPU ${fresh.cpuAt.toFixed(2)} s); restart: first call ${again.callAt.toFixed(2)} s (CPU ${again.cpuAt.toFixed(2)} s)${existingText}; resident ${rss.toFixed(0)} MB${sessionsText}; load ${load()}`);
    }
  }

  if (cfg.cpuMarks.length) {
    console.log(`\nidle CPU, the builds side by side (fresh databases, one call each, then nothing), % of one core between marks (s after start):`);
    const running = [];
    const prev = [];
    // Marks count from each build's spawn; the first window starts at its own first call (the start itself is not
    // idle), read as soon as that call returned: read after every build had launched, a build launched first lost the
    // seconds after its first call (the checkpoint's signing) that the one launched last kept, so it read lower.
    for (const b of cfg.builds) {
      const l = await launch(b, path.join(cfg.tmp, `${b.name}-idle`), upstreamUrl, `${b.name}-idle`);
      running.push({ b, ...l, t0: l.spawnedAt });
      prev.push({ ticks: cpuTicks(l.p.child.pid), at: performance.now() });
    }
    let prevMark = 0;
    for (const mark of cfg.cpuMarks) {
      // Each build's window is measured from its own start; they started within a few seconds of each other.
      for (let i = 0; i < running.length; i++) {
        const x = running[i];
        await delay(Math.max(0, x.t0 + mark * 1000 - performance.now()));
        const ticks = cpuTicks(x.p.child.pid), at = performance.now();
        const pct = ((ticks - prev[i].ticks) / TICKS) / ((at - prev[i].at) / 1000) * 100;
        results[x.b.name].idleCpu.push({ from: prevMark, to: mark, percent: Number(pct.toFixed(2)), rssMb: Number(rssMb(x.p.child.pid).toFixed(0)) });
        prev[i] = { ticks, at };
      }
      console.log(`  ${String(prevMark).padStart(4)}-${String(mark).padEnd(4)} ${running.map((x) => { const w = results[x.b.name].idleCpu.at(-1); return `${x.b.name} ${w.percent.toFixed(2)}% (${w.rssMb} MB)`; }).join('   ')}   load ${load()}`);
      prevMark = mark;
    }
    for (const x of running) await stop(x.p);
  }

  console.log('\n== Summary (seconds; medians in brackets)');
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name}: start to first call, fresh database ${fmt(r.fresh)} [${median(r.fresh).toFixed(2)}]; restart ${fmt(r.restart)} [${median(r.restart).toFixed(2)}]; resident idle ${fmt(r.rss, 0)} MB [${median(r.rss).toFixed(0)}]`);
    if (r.sessionsRss) console.log(`  resident with ${cfg.sessions} open sessions (each with one call, ${cfg.idleSeconds} s after the last) ${fmt(r.sessionsRss, 0)} MB [${median(r.sessionsRss).toFixed(0)}]`);
    if (r.existing) console.log(`  start to first call on a copy of ${path.basename(cfg.builds.find((b) => b.name === name).database)}${cfg.cold ? ', page cache dropped before each start' : ''}: ${fmt(r.existing)} [${median(r.existing).toFixed(2)}]`);
    console.log(`  CPU to the first call (user + system), fresh database ${fmt(r.freshCpu)} [${median(r.freshCpu).toFixed(2)}]; restart ${fmt(r.restartCpu)} [${median(r.restartCpu).toFixed(2)}]`);
    if (r.composition) {
      console.log(`  resident memory by kind (MB, first round): ${Object.entries(r.composition.kinds).map(([k, v]) => `${k} ${v}`).join('; ')}`);
      console.log(`  largest mappings (MB resident / of it private and written): ${r.composition.files.map((f) => `${f.file} ${f.rss}/${f.privateDirty}`).join(', ')}`);
    }
  }
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (cfg.json) fs.writeFileSync(cfg.json, JSON.stringify({ at: new Date().toISOString(), cores: os.cpus().length, load: os.loadavg(), results }, null, 2));
} catch (e) {
  console.error(`fixed-costs.mjs: ${e.message}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
