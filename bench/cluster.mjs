#!/usr/bin/env node
// bench/cluster.mjs — the gateway on PostgreSQL, several instances, one run. Started by bench/cluster.sh, which
// publishes the gateway and starts a private PostgreSQL cluster; this file starts server-everything, the gateways and
// HAProxy, measures, prints, and stops what it started.
//
//   1. audited calls/s, SQLite vs PostgreSQL (and direct as the baseline), closed loop per level, interleaved;
//      latency p50/p99 of sequential calls;
//   2. 1 vs 2 PostgreSQL instances behind HAProxy round robin (the 1-instance case through HAProxy too);
//   3. revoke propagation: a key revoked on instance A, the time until instance B answers 401;
//   4. approval release: a call held on A, approved through B's API, the time until A's call returns.
//
// The client is the same hand-rolled node:http client as bench/peers.mjs (no SDK layers), so the differences are
// the targets'.
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { processes, settle as settleProcesses } from './lib/processes.mjs';
import { streamableHttpArgs } from './lib/server-everything.mjs';
import { shuffler } from './lib/shuffle.mjs';

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d; };
const int = (k, d) => { const v = Number(opt(k, d)); if (!Number.isInteger(v) || v < 0) die(`--${k} must be a whole number`); return v; };
function die(msg) { console.error(`cluster.mjs: ${msg}`); process.exit(2); }

const cfg = {
  seconds: Number(opt('seconds', 5)), levels: opt('levels', '1,8,32').split(',').filter(Boolean).map(Number),
  rounds: int('rounds', 3), n: int('n', 600), warmup: int('warmup', 100), reps: int('reps', 50),
  protocol: opt('protocol', '2026-07-28'), json: opt('json'),
  tmp: opt('tmp'), gatewayDll: opt('gateway-dll'), seEntry: opt('se-entry'), haproxy: opt('haproxy', '/usr/sbin/haproxy'),
  pgData: opt('pg-data'), readyTimeout: int('ready-timeout', 180), callTimeout: int('call-timeout', 15),
  // Longer than the run: a held call is released only by the pushed change (LISTEN/NOTIFY), not by the safety-net poll.
  approvalPoll: opt('approval-poll', '00:30:00'),
  maxSessions: int('max-sessions', 10000),   // Gateway:Mcp:MaxSessionsPerAgent of every gateway (see launchGateway)
};
const PG = process.env.BENCH_PG;
if (!cfg.tmp || !cfg.seEntry || !cfg.gatewayDll || !PG) die('--tmp, --se-entry, --gateway-dll and BENCH_PG are required (run bench/cluster.sh)');
if (!(cfg.seconds > 0)) die('--seconds must be > 0');
if (!cfg.levels.length || cfg.levels.some((l) => !Number.isInteger(l) || l < 1 || l > 512)) die('--levels must be integers 1..512');
if (cfg.rounds < 1 || cfg.n < 1) die('--rounds and --n must be at least 1');
if (!['2026-07-28', '2025-11-25'].includes(cfg.protocol)) die('--protocol is 2026-07-28 or 2025-11-25');

const ARGS = { message: 'hello' };
const SESSION_PROTOCOL = '2025-11-25';
const STATELESS_PROTOCOL = '2026-07-28';
const META_2026 = {
  'io.modelcontextprotocol/protocolVersion': STATELESS_PROTOCOL,
  'io.modelcontextprotocol/clientInfo': { name: 'mcp-gateway-bench', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const AGENT_KEY = 'bench-agent-key-0123456789';
const HOLDER_KEY = 'bench-holder-key-0123456789';
const ADMIN_KEY = crypto.randomBytes(24).toString('hex');

// ---------------------------------------------------------------- raw HTTP / MCP client (as bench/peers.mjs)
const newAgent = () => new http.Agent({ keepAlive: true });
const probeAgent = newAgent();

function sseEvents(buf) {
  const events = [];
  buf = buf.replace(/\r\n?/g, '\n');
  let i;
  while ((i = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, i); buf = buf.slice(i + 2);
    let event = 'message'; const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push({ event, data: data.join('\n') });
  }
  return { events, rest: buf };
}

// One HTTP exchange. For a JSON-RPC request (id set) it resolves as soon as the reply with that id has arrived,
// whether the body is JSON or an SSE stream; otherwise at the end of the body (message = the parsed JSON body, if any).
function exchange(agent, method, url, headers, body, id, timeoutMs) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    let settled = false;
    const done = (fn, v) => { if (!settled) { settled = true; clearTimeout(timer); fn(v); } };
    const req = http.request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers, agent }, (res) => {
      const sse = (res.headers['content-type'] ?? '').includes('text/event-stream');
      let buf = '';
      res.setEncoding('utf8');
      const reply = (message) => done(resolve, { status: res.statusCode, headers: res.headers, message });
      res.on('data', (chunk) => {
        if (settled) return;
        buf += chunk;
        if (!sse || id === undefined) return;
        const parsed = sseEvents(buf); buf = parsed.rest;
        for (const e of parsed.events) {
          const m = tryJson(e.data);
          if (m && m.id === id) return reply(m);
        }
      });
      res.on('end', () => {
        if (sse) return reply(undefined);
        const m = tryJson(buf);
        reply(m ?? (buf ? { rawBody: buf.slice(0, 300) } : undefined));
      });
      res.on('error', (e) => done(reject, e));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => done(reject, e));
    req.end(body);
  });
}
const tryJson = (s) => { try { return JSON.parse(s); } catch { return undefined; } };

function checkReply(r, id) {
  const m = r.message;
  if (r.status >= 400) throw new Error(`HTTP ${r.status}${m?.error ? `: ${m.error.message}` : m?.rawBody ? `: ${m.rawBody}` : ''}`);
  if (!m || m.rawBody !== undefined) throw new Error(`no JSON-RPC reply for id ${id} (HTTP ${r.status})`);
  if (m.error) throw new Error(`JSON-RPC error ${m.error.code}: ${m.error.message}`);
  return m.result;
}

// 2025-11-25 streamable HTTP: initialize, notifications/initialized, then requests carrying Mcp-Session-Id.
class HttpSession {
  constructor(t, token = t.token) { this.t = t; this.token = token; this.nextId = 1; this.sid = undefined; this.version = SESSION_PROTOCOL; this.agent = newAgent(); }
  headers() {
    const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': this.version };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.sid) h['mcp-session-id'] = this.sid;
    return h;
  }
  async rpc(method, params, timeoutMs = cfg.callTimeout * 1000) {
    const id = this.nextId++;
    const r = await exchange(this.agent, 'POST', this.t.url, this.headers(), JSON.stringify({ jsonrpc: '2.0', id, method, params }), id, timeoutMs);
    this.sid = r.headers['mcp-session-id'] ?? this.sid;
    return checkReply(r, id);
  }
  async open() {
    const init = await this.rpc('initialize', { protocolVersion: SESSION_PROTOCOL, capabilities: {}, clientInfo: { name: 'mcp-gateway-bench', version: '1.0.0' } });
    this.version = init.protocolVersion ?? SESSION_PROTOCOL;
    const r = await exchange(this.agent, 'POST', this.t.url, this.headers(), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), undefined, cfg.callTimeout * 1000);
    if (r.status >= 400) throw new Error(`notifications/initialized: HTTP ${r.status}`);
    return this;
  }
  async close() {
    if (this.sid) await exchange(this.agent, 'DELETE', this.t.url, this.headers(), undefined, undefined, 5000).catch(() => {});
    this.agent.destroy();
  }
}

// 2026-07-28: no handshake; every request carries the revision in a header and in _meta, and names its method (and
// for tools/call its tool) in Mcp-Method / Mcp-Name. Any instance can serve any request.
class StatelessClient {
  constructor(t, token = t.token) { this.t = t; this.token = token; this.nextId = 1; this.agent = newAgent(); }
  async rpc(method, params, timeoutMs = cfg.callTimeout * 1000) {
    const id = this.nextId++;
    const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': STATELESS_PROTOCOL, 'mcp-method': method };
    if (method === 'tools/call') h['mcp-name'] = params.name;
    if (this.token) h.authorization = `Bearer ${this.token}`;
    const r = await exchange(this.agent, 'POST', this.t.url, h, JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: META_2026 } }), id, timeoutMs);
    return checkReply(r, id);
  }
  async open() { return this; }
  async close() { this.agent.destroy(); }
}

const client = (t, token) => (t.protocol === STATELESS_PROTOCOL ? new StatelessClient(t, token) : new HttpSession(t, token));
async function callEcho(s) {
  const r = await s.rpc('tools/call', { name: s.t.tool, arguments: ARGS });
  if (r?.isError) throw new Error(`tool error: ${JSON.stringify(r.content).slice(0, 200)}`);
  return r;
}

// The cheap authenticated request of the revoke probe (MultiInstanceTests.Status): one stateless tools/list.
const LIST_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META_2026 } });
async function listStatus(agent, mcpUrl, key) {
  const r = await exchange(agent, 'POST', mcpUrl, {
    'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}`,
    'mcp-protocol-version': STATELESS_PROTOCOL, 'mcp-method': 'tools/list',
  }, LIST_BODY, 1, 5000);
  return r.status;
}

// The admin API (Bearer Gateway:Admin:ApiKey).
async function admin(agent, method, url, body) {
  const h = { authorization: `Bearer ${ADMIN_KEY}`, accept: 'application/json' };
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await exchange(agent, method, url, h, body === undefined ? undefined : JSON.stringify(body), undefined, 10000);
  return { status: r.status, body: r.message };
}

// ---------------------------------------------------------------- processes
const { procs, start, stopAll, markedPids } = processes(cfg.tmp);

// PostgreSQL's postmaster (started by cluster.sh, not marked; its children are found as its descendants). Only read, for settle().
function postmasterPid() {
  try { return [Number(fs.readFileSync(path.join(cfg.pgData, 'postmaster.pid'), 'utf8').split('\n')[0])]; } catch { return []; }
}

let interrupted = false;
class Interrupted extends Error {}
const checkInterrupt = () => { if (interrupted) throw new Interrupted('interrupted'); };
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${sig}: stopping every process of this run`);
    stopAll().finally(() => process.exit(130));
  });
}

// Waits until this run's processes and PostgreSQL are quiet, so one target's teardown is not measured as the next one's
// cost. Bounded: false after maxMs.
const settle = (maxMs = 10000) => settleProcesses(() => [...markedPids(), ...postmasterPid()], { maxMs, check: checkInterrupt });

const tail = (file, lines = 8) => {
  try { return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `      | ${l.slice(0, 240)}`).join('\n'); } catch { return ''; }
};

async function freePorts(k) {
  const servers = await Promise.all(Array.from({ length: k }, () => new Promise((res, rej) => {
    const s = net.createServer(); s.on('error', rej); s.listen(0, '127.0.0.1', () => res(s));
  })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

// server-everything listens on every interface by default; this preload pins it to 127.0.0.1.
const LOOPBACK_PRELOAD = `'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...a) {
  if (typeof a[0] === 'number' || (typeof a[0] === 'string' && /^\\d+$/.test(a[0]))) {
    if (typeof a[1] === 'string') a[1] = '127.0.0.1'; else a.splice(1, 0, '127.0.0.1');
  } else if (a[0] && typeof a[0] === 'object' && 'port' in a[0]) a[0] = { ...a[0], host: '127.0.0.1' };
  return listen.apply(this, a);
};
`;

// ---------------------------------------------------------------- gateways and HAProxy
const shared = path.join(cfg.tmp, 'shared');   // what instances on one database must share: key ring, signing key

function launchGateway(name, port, connectionString, upUrl) {
  const data = path.join(cfg.tmp, name);
  fs.mkdirSync(data, { recursive: true });
  // Not what this bench measures: high enough that the per-instance session cap never shapes a 2025-11-25 run. (A
  // session used on both instances behind haproxy-2 and ended with a DELETE on one of them stays counted on the other
  // until Gateway:Mcp:SessionIdleTimeout; with the levels' own cap a --protocol 2025-11-25 run got 429 in round 3.)
  const maxSessions = cfg.maxSessions;
  const keys = connectionString === PG
    ? [`--Gateway:DataProtection:KeysPath=${path.join(shared, 'keys')}`, `--Gateway:Audit:SigningKeyPath=${path.join(shared, 'audit-signing-key.pem')}`]
    : [];
  // Every gateway gets the same configuration (the hold rule too, which matches only the agent "holder"), so SQLite
  // and PostgreSQL evaluate the same policy snapshot on every call. The working directory is the dll's folder.
  return start(name, 'dotnet', [cfg.gatewayDll,
    `--urls=http://127.0.0.1:${port}`, '--environment=Production',
    `--ConnectionStrings:Gateway=${connectionString}`,
    '--Logging:LogLevel:Default=Warning',
    `--Gateway:Admin:ApiKey=${ADMIN_KEY}`,
    `--Gateway:Admin:BootstrapPassword=${crypto.randomBytes(8).toString('hex')}`,
    `--Gateway:Agents:bench:ApiKey=${AGENT_KEY}`, '--Gateway:Agents:bench:Grants:0=everything/*',
    `--Gateway:Agents:holder:ApiKey=${HOLDER_KEY}`, '--Gateway:Agents:holder:Grants:0=everything/*',
    '--Gateway:Policies:hold:Effect=escalate', '--Gateway:Policies:hold:Agents:0=holder', '--Gateway:Policies:hold:Tools:0=echo',
    '--Gateway:Approvals:HoldFor=00:01:00', `--Gateway:Approvals:PollInterval=${cfg.approvalPoll}`,
    '--Gateway:Servers:everything:Transport=http', `--Gateway:Servers:everything:Url=${upUrl}`,
    // The bench's agents drive many sessions each: the per-agent limits (16 calls in flight by default) must not shape the levels.
    `--Gateway:Mcp:MaxSessionsPerAgent=${maxSessions}`, '--Gateway:Limits:MaxConcurrentCalls=0', ...keys], { cwd: path.dirname(cfg.gatewayDll) });
}

// As Gateway.Tests/Support/Balancer.cs: round robin per request, nothing sticky, pooled keep-alive server
// connections, /readyz health checks; the header names the backend that served each response.
function launchHaproxy(name, port, backends) {
  const conf = path.join(cfg.tmp, `${name}.cfg`);
  fs.writeFileSync(conf, [
    'global', '    maxconn 4096',
    'defaults', '    mode http', '    timeout connect 5s', '    timeout client 120s', '    timeout server 120s',
    '    timeout tunnel 1h', '    timeout http-keep-alive 30s', '    timeout check 2s', '    retries 3', '    option redispatch 1',
    'frontend gateway', `    bind 127.0.0.1:${port}`, '    default_backend instances',
    'backend instances', '    balance roundrobin', '    no option prefer-last-server', '    http-reuse safe',
    '    option httpchk', '    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost', '    http-check expect status 200',
    '    default-server check inter 500ms fall 2 rise 2', '    http-response set-header X-Balancer-Server %s',
    ...backends.map((p, i) => `    server g${i} 127.0.0.1:${p}`), ''].join('\n'));
  return start(name, cfg.haproxy, ['-db', '-f', conf]);
}

// Ready = the process is up, /readyz answers 200 (gateways) and the agent's tools/list has the echo tool.
async function waitReady(t, deadline) {
  let last = 'not polled yet';
  while (Date.now() < deadline) {
    checkInterrupt();
    for (const p of t.procs ?? []) if (p.exited) throw new Error(`${p.name} ${p.exited}; last log lines:\n${tail(p.log)}`);
    try {
      if (t.readyz && !t.readyzOk) {
        const r = await exchange(probeAgent, 'GET', t.readyz, {}, undefined, undefined, 3000);
        if (r.status !== 200) throw new Error(`/readyz: HTTP ${r.status}`);
        t.readyzOk = true;
      }
      const s = await client(t).open();
      try {
        const tools = (await s.rpc('tools/list', {}))?.tools ?? [];
        if (tools.some((x) => x.name === t.tool)) return;
        last = `tools/list has no ${t.tool} yet (${tools.length} tools)`;
      } finally { await s.close(); }
    } catch (e) { last = e.code ?? e.message; }
    await delay(200);
  }
  throw new Error(`not ready within ${cfg.readyTimeout} s (last: ${last})${(t.procs ?? []).map((p) => `\n    ${p.name}:\n${tail(p.log)}`).join('')}`);
}

// ---------------------------------------------------------------- measurements
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
function stats(xs) {
  if (!xs.length) return undefined;
  const s = Float64Array.from(xs).sort();
  return { n: s.length, min: s[0], p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : undefined; };
function fsType(dir) {
  const names = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlay', 0x2fc12fc1: 'zfs' };
  try { const t = fs.statfsSync(dir).type; return names[t] ?? `0x${t.toString(16)}`; } catch { return 'unknown'; }
}

// Sequential calls, one client per target, interleaved call by call in an order shuffled every round (seeded, as
// bench/peers.mjs: rotated, each target always followed the same one).
async function latencyPhase(live) {
  for (const t of live) { t.lat = []; t.errors = 0; t.session = await client(t).open(); }
  const shuffle = shuffler(20261207);
  for (let i = 0; i < cfg.warmup + cfg.n; i++) {
    for (const t of shuffle(live)) {
      checkInterrupt();
      const t0 = performance.now();
      try { await callEcho(t.session); if (i >= cfg.warmup) t.lat.push(performance.now() - t0); }
      catch (e) { t.errors++; t.lastError = e.message; }
    }
  }
  for (const t of live) { await t.session.close(); t.latency = { ...stats(t.lat), errors: t.errors, lastError: t.lastError }; delete t.lat; }
}

// Closed loop: L clients (each its own connection; on 2025-11-25 its own session), one call in flight each, for a
// fixed time. Opened, and given one unmeasured call each, before the clock starts.
async function throughputRun(t, level) {
  const settled = await settle();
  const clients = [];
  try {
    for (let i = 0; i < level; i += 8) {
      checkInterrupt();
      const batch = await Promise.allSettled(Array.from({ length: Math.min(8, level - i) }, () => client(t).open()));
      clients.push(...batch.filter((b) => b.status === 'fulfilled').map((b) => b.value));
      const failed = batch.find((b) => b.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (e) {
    await Promise.all(clients.map((s) => s.close()));
    if (e instanceof Interrupted) throw e;
    return { level, error: `could not open client ${clients.length + 1} of ${level}: ${e.message}` };
  }
  await Promise.all(clients.map((s) => callEcho(s).catch(() => {})));
  const lat = [];
  let ok = 0, errors = 0, lastError;
  const t0 = performance.now(), end = t0 + cfg.seconds * 1000;
  await Promise.all(clients.map(async (s) => {
    while (performance.now() < end && errors < 200 && !interrupted) {
      const c0 = performance.now();
      try { await callEcho(s); lat.push(performance.now() - c0); ok++; }
      catch (e) { errors++; lastError = e.message; }
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((s) => s.close()));
  checkInterrupt();
  const st = stats(lat);
  return { level, calls: ok, errors, lastError, seconds: elapsed, callsPerSec: ok / elapsed, p50: st?.p50, p99: st?.p99, settled, lat };
}

// 3. A key revoked on A: from A's DELETE response to B's first 401, B probed back to back.
async function revokePhase(a, b) {
  const aAdmin = newAgent(), bProbe = newAgent();
  const out = { createVisible: [], revoke: [], revokeFromSent: [], probes: [], failures: [] };
  try {
    for (let i = 0; i < cfg.reps; i++) {
      checkInterrupt();
      const name = `revoke-${i}-${crypto.randomBytes(3).toString('hex')}`;
      const created = await admin(aAdmin, 'POST', `${a.base}/api/v1/agents`, { name, grants: ['everything/echo'] });
      if (created.status !== 201) { out.failures.push(`create ${name}: HTTP ${created.status} ${JSON.stringify(created.body)?.slice(0, 200)}`); continue; }
      const c0 = performance.now();
      const { apiKey, keyId } = created.body;
      // The new key works on B (pushed): measured too, from A's 201.
      let visible;
      for (const until = c0 + 10000; performance.now() < until;) {
        if (await listStatus(bProbe, `${b.base}/mcp`, apiKey) === 200) { visible = performance.now() - c0; break; }
      }
      if (visible === undefined) { out.failures.push(`${name}: key not accepted by B within 10 s`); continue; }
      out.createVisible.push(visible);
      const sent = performance.now();
      const revoked = await admin(aAdmin, 'DELETE', `${a.base}/api/v1/agents/${encodeURIComponent(name)}/keys/${keyId}`);
      const r0 = performance.now();
      if (revoked.status < 200 || revoked.status >= 300) { out.failures.push(`revoke ${name}: HTTP ${revoked.status}`); continue; }
      let refused, probes = 0, other;
      for (const until = r0 + 10000; performance.now() < until;) {
        const s = await listStatus(bProbe, `${b.base}/mcp`, apiKey);
        probes++;
        if (s === 401) { refused = performance.now() - r0; break; }
        if (s !== 200) other = s;
      }
      if (refused === undefined) { out.failures.push(`${name}: B still accepted the revoked key after 10 s${other ? ` (also HTTP ${other})` : ''}`); continue; }
      out.revoke.push(refused); out.revokeFromSent.push(refused + (r0 - sent)); out.probes.push(probes);
      await delay(20 + Math.random() * 30);
    }
  } finally { aAdmin.destroy(); bProbe.destroy(); }
  return { revoke: stats(out.revoke), revokeFromSent: stats(out.revokeFromSent), createVisible: stats(out.createVisible), probes: stats(out.probes),
    failures: out.failures, raw: out.revoke };
}

// 4. A call held on A, approved through B's API: from B's approve response to A's call returning its result.
async function approvalPhase(a, b) {
  const bAdmin = newAgent();
  const holder = client({ ...a, url: `${a.base}/mcp` }, HOLDER_KEY);
  await holder.open();
  const out = { release: [], releaseFromSent: [], listed: [], failures: [] };
  try {
    for (let i = 0; i < cfg.reps; i++) {
      checkInterrupt();
      const marker = `held-${i}-${crypto.randomBytes(3).toString('hex')}`;
      const h0 = performance.now();
      let returnedAt;
      const call = holder.rpc('tools/call', { name: a.tool, arguments: { message: marker } }, 90000)
        .then((r) => { returnedAt = performance.now(); return r; });
      call.catch(() => {});
      // Wait until B lists it as pending (B's API reads the database).
      let approval;
      for (const until = h0 + 20000; performance.now() < until && returnedAt === undefined;) {
        const list = await admin(bAdmin, 'GET', `${b.base}/api/v1/approvals`);
        approval = Array.isArray(list.body) ? list.body.find((x) => (x.argumentsJson ?? '').includes(marker)) : undefined;
        if (approval) break;
        await delay(5);
      }
      if (!approval) {
        out.failures.push(`${marker}: not listed pending on B within 20 s${returnedAt !== undefined ? ' (the call returned first)' : ''}`);
        await call.catch(() => {});
        continue;
      }
      out.listed.push(performance.now() - h0);
      if (returnedAt !== undefined) { out.failures.push(`${marker}: the call returned before the approval`); continue; }
      const sent = performance.now();
      const approved = await admin(bAdmin, 'POST', `${b.base}/api/v1/approvals/${encodeURIComponent(approval.id)}/approve`);
      const a0 = performance.now();
      if (approved.status !== 200) { out.failures.push(`${marker}: approve on B: HTTP ${approved.status} ${JSON.stringify(approved.body)?.slice(0, 200)}`); await call.catch(() => {}); continue; }
      let result;
      try { result = await call; } catch (e) { out.failures.push(`${marker}: the held call failed: ${e.message}`); continue; }
      const text = JSON.stringify(result?.content ?? '');
      if (result?.isError || !text.includes(marker)) { out.failures.push(`${marker}: unexpected result ${text.slice(0, 200)}`); continue; }
      // Signed: negative when A's call had returned before B's approve response reached the client.
      out.release.push(returnedAt - a0); out.releaseFromSent.push(returnedAt - sent);
      await delay(20 + Math.random() * 30);
    }
  } finally { await holder.close(); bAdmin.destroy(); }
  return { release: stats(out.release), releaseFromSent: stats(out.releaseFromSent), listed: stats(out.listed), failures: out.failures, raw: out.release };
}

// ---------------------------------------------------------------- output helpers
const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const sgn = (x, d = 1) => (x === undefined ? '-' : `${x < 0 ? '' : ' '}${x.toFixed(d)}`);
const pad = (s, w) => String(s).padStart(w);
const padR = (s, w) => String(s).padEnd(w);
const uptimeLine = () => { try { return execFileSync('uptime', { encoding: 'utf8' }).trim(); } catch { return `load average: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`; } };

// ---------------------------------------------------------------- main
async function main() {
  const began = performance.now();
  const report = { startedAt: new Date().toISOString(), options: { ...cfg }, machine: { cores: os.cpus().length, node: process.version } };
  const upStart = uptimeLine();
  report.machine.uptimeStart = upStart;
  console.log(`== MCP gateway cluster bench, ${new Date().toISOString()}, ${os.cpus().length} cores, node ${process.version}`);
  console.log(`uptime at start: ${upStart}`);
  console.log(`options: --seconds ${cfg.seconds} --levels ${cfg.levels.join(',')} --rounds ${cfg.rounds} --n ${cfg.n} --warmup ${cfg.warmup} --reps ${cfg.reps} --protocol ${cfg.protocol}`);

  fs.writeFileSync(path.join(cfg.tmp, 'loopback.cjs'), LOOPBACK_PRELOAD);
  fs.mkdirSync(shared, { recursive: true });
  const [pUp, pSqlite, pA, pB, pLb1, pLb2] = await freePorts(6);
  const upUrl = `http://127.0.0.1:${pUp}/mcp`;
  const upstream = start('server-everything', process.execPath, streamableHttpArgs(path.join(cfg.tmp, 'loopback.cjs'), cfg.seEntry),
    { env: { PORT: String(pUp) }, cwd: path.dirname(cfg.seEntry) });

  const gw = (name, port, extra) => ({ name, base: `http://127.0.0.1:${port}`, url: `http://127.0.0.1:${port}/mcp`, readyz: `http://127.0.0.1:${port}/readyz`,
    token: AGENT_KEY, tool: 'everything__echo', protocol: cfg.protocol, ...extra });
  const direct = { name: 'direct', url: upUrl, tool: 'echo', protocol: SESSION_PROTOCOL, procs: [upstream], via: 'raw client -> server-everything (2025-11-25 sessions: the only revision it speaks)' };
  const sqlite = gw('gw-sqlite', pSqlite, { via: 'gateway on SQLite (WAL, synchronous=FULL) in the run folder' });
  const pgA = gw('gw-postgres', pA, { via: 'gateway on PostgreSQL (instance A, no proxy)' });
  const pgB = gw('gw-postgres-b', pB, { via: 'gateway on PostgreSQL (instance B, no proxy; revoke and approval phases)' });
  const lb1 = gw('haproxy-1', pLb1, { readyz: undefined, via: 'HAProxy round robin -> instance A only' });
  const lb2 = gw('haproxy-2', pLb2, { readyz: undefined, via: 'HAProxy round robin -> instances A and B' });

  console.log(`\n== Start (upstream: server-everything streamable HTTP on ${upUrl}; PostgreSQL data on ${fsType(cfg.pgData)}, SQLite in ${cfg.tmp} on ${fsType(cfg.tmp)})`);
  const deadline = Date.now() + cfg.readyTimeout * 1000;
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  await waitReady(direct, deadline);
  // A first, alone on PostgreSQL: it creates the schema (two migrations at once would race); SQLite meanwhile.
  sqlite.procs = [launchGateway('gw-sqlite', pSqlite, `Data Source=${path.join(cfg.tmp, 'gw-sqlite', 'gateway.db')}`, upUrl)];
  pgA.procs = [launchGateway('gw-postgres', pA, PG, upUrl)];
  await Promise.all([waitReady(sqlite, deadline).then(() => console.log(`  gw-sqlite ready (${since()})`)),
    waitReady(pgA, deadline).then(() => console.log(`  gw-postgres (A) ready (${since()})`))]);
  pgB.procs = [launchGateway('gw-postgres-b', pB, PG, upUrl)];
  await waitReady(pgB, deadline);
  console.log(`  gw-postgres-b (B) ready (${since()})`);
  lb1.procs = [launchHaproxy('haproxy-1', pLb1, [pA]), ...pgA.procs];
  lb2.procs = [launchHaproxy('haproxy-2', pLb2, [pA, pB]), ...pgA.procs, ...pgB.procs];
  await Promise.all([waitReady(lb1, deadline), waitReady(lb2, deadline)]);
  // Both instances behind haproxy-2 must be in rotation (its header names the backend that served each response).
  const served = {};
  for (let i = 0; i < 12; i++) {
    const r = await exchange(probeAgent, 'POST', lb2.url, { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      authorization: `Bearer ${AGENT_KEY}`, 'mcp-protocol-version': STATELESS_PROTOCOL, 'mcp-method': 'tools/list' }, LIST_BODY, 1, 5000);
    const s = r.headers['x-balancer-server'] ?? '?';
    served[s] = (served[s] ?? 0) + 1;
  }
  console.log(`  haproxy-1, haproxy-2 ready (${since()}); 12 requests through haproxy-2 served by ${Object.entries(served).map(([k, v]) => `${k} x${v}`).join(', ')}`);
  if (Object.keys(served).length < 2) throw new Error('haproxy-2 does not spread requests over both instances');
  const targets = [direct, sqlite, pgA, lb1, lb2];
  for (const t of targets) console.log(`  ${padR(t.name, 14)} ${t.url}  ${t.via}${t === direct ? '' : `; client speaks ${t.protocol}`}`);

  // Latency at concurrency 1.
  await settle();
  console.log(`\n== Latency: ${cfg.n} sequential tools/call echo per target after ${cfg.warmup} warm-up, interleaved call by call (order shuffled every round)`);
  await latencyPhase(targets);
  const base = direct.latency;
  console.log(`${padR('target', 14)} ${pad('ok', 6)} ${pad('err', 4)} ${pad('p50', 7)} ${pad('p90', 7)} ${pad('p99', 7)} ${pad('max', 7)}  ${pad('+p50', 7)} ${pad('+p99', 7)}  (ms; + = added over direct)`);
  for (const t of targets) {
    const l = t.latency;
    if (!l?.n) { console.log(`${padR(t.name, 14)} no successful call${l?.lastError ? `: ${l.lastError}` : ''}`); continue; }
    t.added = t === direct ? undefined : { p50: l.p50 - base.p50, p99: l.p99 - base.p99 };
    console.log(`${padR(t.name, 14)} ${pad(l.n, 6)} ${pad(l.errors, 4)} ${pad(f(l.p50, 3), 7)} ${pad(f(l.p90, 3), 7)} ${pad(f(l.p99, 3), 7)} ${pad(f(l.max, 3), 7)}  ${pad(t.added ? f(t.added.p50, 3) : '', 7)} ${pad(t.added ? f(t.added.p99, 3) : '', 7)}${l.errors ? `  last error: ${l.lastError}` : ''}`);
  }

  // Throughput: every round runs every level on every target; within a level the targets take turns (rotating).
  console.log(`\n== Throughput: closed loop, ${cfg.seconds} s per level, target and round; ${cfg.rounds} round(s)`);
  const runs = {};   // runs[target][level] = [round results]
  let k = 0;
  for (let round = 0; round < cfg.rounds; round++) {
    for (const level of cfg.levels) {
      for (const t of rotate(targets, k++ % targets.length)) {
        const r = await throughputRun(t, level);
        ((runs[t.name] ??= {})[level] ??= []).push(r);
        console.log(`  round ${round + 1} c=${pad(level, 3)} ${padR(t.name, 14)} ${r.error ? `FAILED: ${r.error}` : `${pad(r.callsPerSec.toFixed(0), 6)} calls/s  p50 ${pad(f(r.p50), 7)} ms  p99 ${pad(f(r.p99), 7)} ms${r.errors ? `, ${r.errors} errors (${r.lastError})` : ''}${r.settled ? '' : ' (not quiet before)'}`}`);
      }
    }
  }
  // Pooled over the rounds: calls / seconds, latency percentiles over every call; ratios per round for the spread.
  const pooled = (name, level) => {
    const rs = (runs[name]?.[level] ?? []).filter((r) => !r.error);
    if (!rs.length) return undefined;
    const calls = rs.reduce((s, r) => s + r.calls, 0), secs = rs.reduce((s, r) => s + r.seconds, 0);
    const st = stats(rs.flatMap((r) => r.lat));
    return { callsPerSec: calls / secs, calls, errors: rs.reduce((s, r) => s + r.errors, 0), p50: st?.p50, p99: st?.p99, perRound: rs.map((r) => r.callsPerSec) };
  };
  const ratios = (num, den, level) => {
    const a = runs[num]?.[level] ?? [], b = runs[den]?.[level] ?? [];
    return a.map((r, i) => (r.error || !b[i] || b[i].error ? undefined : r.callsPerSec / b[i].callsPerSec)).filter((x) => x !== undefined);
  };
  const spread = (xs) => (xs.length > 1 ? ` (rounds ${xs.map((x) => x.toFixed(2)).join(', ')})` : '');
  report.throughput = {};
  for (const t of targets) {
    report.throughput[t.name] = Object.fromEntries(cfg.levels.map((l) => [l, { ...pooled(t.name, l), runs: (runs[t.name]?.[l] ?? []).map(({ lat, ...r }) => r) }]));
  }

  console.log(`\n== 1. Audited calls/s: gateway on SQLite vs on PostgreSQL (pooled over ${cfg.rounds} round(s); ratios per round in brackets)`);
  console.log(`${padR('c', 4)} ${pad('direct', 8)} ${pad('gw-sqlite', 10)} ${pad('x direct', 9)} ${pad('gw-postgres', 12)} ${pad('x direct', 9)}   pg / sqlite    | p50/p99 ms: sqlite, postgres`);
  report.part1 = {};
  for (const level of cfg.levels) {
    const d = pooled('direct', level), s = pooled('gw-sqlite', level), p = pooled('gw-postgres', level);
    const pr = ratios('gw-postgres', 'gw-sqlite', level);
    const row = { direct: d?.callsPerSec, sqlite: s?.callsPerSec, postgres: p?.callsPerSec, pgOverSqlite: p && s ? p.callsPerSec / s.callsPerSec : undefined, pgOverSqlitePerRound: pr,
      sqliteP50: s?.p50, sqliteP99: s?.p99, postgresP50: p?.p50, postgresP99: p?.p99 };
    report.part1[level] = row;
    console.log(`${padR(level, 4)} ${pad(f(d?.callsPerSec, 0), 8)} ${pad(f(s?.callsPerSec, 0), 10)} ${pad(d && s ? `${f(s.callsPerSec / d.callsPerSec)}x` : '-', 9)} ${pad(f(p?.callsPerSec, 0), 12)} ${pad(d && p ? `${f(p.callsPerSec / d.callsPerSec)}x` : '-', 9)}   ${pad(row.pgOverSqlite ? `${f(row.pgOverSqlite)}x` : '-', 6)}${spread(pr)}  | ${f(s?.p50)}/${f(s?.p99)}, ${f(p?.p50)}/${f(p?.p99)}`);
  }
  console.log(`latency c=1 sequential (ms): ${['direct', 'gw-sqlite', 'gw-postgres'].map((n) => { const l = targets.find((t) => t.name === n).latency; return `${n} p50 ${f(l?.p50, 3)} p99 ${f(l?.p99, 3)}`; }).join('; ')}`);

  console.log(`\n== 2. 1 vs 2 PostgreSQL instances behind HAProxy round robin (pooled over ${cfg.rounds} round(s))`);
  console.log(`${padR('c', 4)} ${pad('1 instance', 11)} ${pad('p50', 7)} ${pad('p99', 7)}  ${pad('2 instances', 12)} ${pad('p50', 7)} ${pad('p99', 7)}   2 / 1`);
  report.part2 = {};
  for (const level of cfg.levels) {
    const one = pooled('haproxy-1', level), two = pooled('haproxy-2', level);
    const rr = ratios('haproxy-2', 'haproxy-1', level);
    report.part2[level] = { one: one?.callsPerSec, two: two?.callsPerSec, ratio: one && two ? two.callsPerSec / one.callsPerSec : undefined, ratioPerRound: rr,
      oneP50: one?.p50, oneP99: one?.p99, twoP50: two?.p50, twoP99: two?.p99 };
    console.log(`${padR(level, 4)} ${pad(f(one?.callsPerSec, 0), 11)} ${pad(f(one?.p50), 7)} ${pad(f(one?.p99), 7)}  ${pad(f(two?.callsPerSec, 0), 12)} ${pad(f(two?.p50), 7)} ${pad(f(two?.p99), 7)}   ${one && two ? `${f(two.callsPerSec / one.callsPerSec)}x` : '-'}${spread(rr)}`);
  }
  console.log(`(the client, server-everything, PostgreSQL, HAProxy and the instances share the machine's ${os.cpus().length} cores)`);

  // 3 and 4 on a quiet machine (as quiet as it gets).
  await settle();
  console.log(`\n== 3. Revoke propagation: agent created on A, its key working on B, revoked on A; from A's DELETE response to B's first 401 (${cfg.reps} times)`);
  const rv = await revokePhase(pgA, pgB);
  report.revoke = rv;
  const line = (label, s) => console.log(`  ${padR(label, 34)} ${s ? `n ${pad(s.n, 3)}  min ${pad(sgn(s.min), 6)}  p50 ${pad(sgn(s.p50), 6)}  p90 ${pad(sgn(s.p90), 6)}  p99 ${pad(sgn(s.p99), 6)}  max ${pad(sgn(s.max), 6)} ms` : 'no sample'}`);
  line('revoked on A -> 401 on B', rv.revoke);
  line('(from the DELETE being sent)', rv.revokeFromSent);
  line('created on A -> key works on B', rv.createVisible);
  if (rv.probes) console.log(`  probes of B per revoke (back to back): p50 ${f(rv.probes.p50, 0)}, max ${f(rv.probes.max, 0)}`);
  for (const x of rv.failures) console.log(`  FAILED: ${x}`);
  if (rv.revoke) console.log(`  target p99 <= 200 ms: ${rv.revoke.p99 <= 200 ? 'met' : 'MISSED'} (p99 ${f(rv.revoke.p99, 1)} ms)`);

  await settle();
  console.log(`\n== 4. Approval release: call held on A (client ${cfg.protocol}), listed pending on B, approved through B's API; from B's approve response to A's call returning (${cfg.reps} times; Approvals:PollInterval=${cfg.approvalPoll}, so only the push releases it)`);
  const ap = await approvalPhase(pgA, pgB);
  report.approval = ap;
  line('approved on B -> result on A', ap.release);
  line('(from the approve being sent)', ap.releaseFromSent);
  if (ap.release?.min < 0) console.log(`  (negative: A's call had returned before B's approve response reached the client)`);
  line('held on A -> listed pending on B', ap.listed);
  for (const x of ap.failures) console.log(`  FAILED: ${x}`);
  if (ap.release) console.log(`  target p99 <= 200 ms: ${ap.release.p99 <= 200 ? 'met' : 'MISSED'} (p99 ${f(ap.release.p99, 1)} ms)`);

  const upEnd = uptimeLine();
  report.machine.uptimeEnd = upEnd;
  report.seconds = (performance.now() - began) / 1000;
  console.log(`\nuptime at start: ${upStart}`);
  console.log(`uptime at end:   ${upEnd}`);
  console.log(`measured in ${report.seconds.toFixed(0)} s (after publishing and PostgreSQL's start)`);
  report.latency = Object.fromEntries(targets.map((t) => [t.name, { via: t.via, protocol: t.protocol, latency: t.latency, added: t.added }]));
  finalReport = report;
  const failed = rv.failures.length || ap.failures.length || !rv.revoke || !ap.release
    || targets.some((t) => cfg.levels.some((l) => (runs[t.name]?.[l] ?? []).some((r) => r.error)));
  return failed ? 1 : 0;
}

// What the gateways logged (Warning and above), read after they stopped so the shutdown is included: each entry's
// level, category and message, counted. The gateway writes one line per entry (`warn: Category[id] message`, newlines
// in the message escaped as \n), then one indented line per exception (`      Type: message`) and its stack.
function gatewayLogs() {
  const out = {};
  console.log('\n== Gateway logs (Warning and above, start to stop)');
  for (const p of procs.filter((x) => x.name.startsWith('gw-'))) {
    let lines = [];
    try { lines = fs.readFileSync(p.log, 'utf8').split('\n'); } catch { /* none */ }
    const entries = new Map();
    for (let i = 0; i < lines.length; i++) {
      const m = /^(warn|fail|crit): (\S+) ?(.*)$/.exec(lines[i]);
      if (!m) continue;
      // The message's first line; for a failed database command the statement's first line instead of the parameters
      // (the message itself is generic); the first exception's type and message. Durations and key ids are masked so
      // that repeats group.
      const parts = m[3].split('\\n');
      let text = parts[0].startsWith('Failed executing DbCommand') ? `Failed executing DbCommand: ${(parts[1] ?? '').trim()}` : parts[0];
      const exception = /^ {6}(\S+: .*)$/.exec(lines[i + 1] ?? '');
      if (exception) text += ` | ${exception[1]}`;
      text = text.replace(/\(\d+ms\)/g, '(..ms)').replace(/\{[0-9a-f-]{36}\}/g, '{..}').slice(0, 240);
      const key = `${m[1]}: ${m[2]}: ${text}`;
      entries.set(key, (entries.get(key) ?? 0) + 1);
    }
    out[p.name] = Object.fromEntries(entries);
    console.log(`  ${p.name}: ${[...entries.values()].reduce((a, b) => a + b, 0)} entries${entries.size ? '' : ' (none)'}`);
    for (const [k, v] of entries) console.log(`      ${v} x ${k}`);
  }
  return out;
}

let code = 1, finalReport;
try { code = await main(); } catch (e) { if (e instanceof Interrupted) code = 130; else console.error(`cluster.mjs: ${e.stack ?? e}`); }
await stopAll();
probeAgent.destroy();
if (code !== 130) {
  const logs = gatewayLogs();
  if (finalReport && cfg.json) {
    finalReport.logs = logs;
    fs.writeFileSync(cfg.json, `${JSON.stringify(finalReport, (key, v) => (key === 'raw' ? v?.map((x) => Number(x.toFixed(3))) : v), 2)}\n`);
    console.log(`figures written to ${cfg.json}`);
  }
}
process.exit(code);
