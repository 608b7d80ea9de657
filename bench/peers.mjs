#!/usr/bin/env node
// bench/peers.mjs — the gateway side by side with peer MCP proxies, all in front of the same server-everything.
// Started by bench/peers.sh, which installs the packages and builds the gateway; this file starts every process,
// waits until each target lists its echo tool, measures, prints, and stops what it started.
//
// Why a hand-rolled client on node:http: every target is measured by the same lowest-overhead client (no SDK
// validation, no fetch/undici layers), so the differences are the targets', not the client's.
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuTicks, processes, settle as settleProcesses, TICKS_PER_SECOND } from './lib/processes.mjs';
import { streamableHttpArgs } from './lib/server-everything.mjs';
import { shuffler } from './lib/shuffle.mjs';

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d; };
const int = (k, d) => { const v = Number(opt(k, d)); if (!Number.isInteger(v) || v < 0) die(`--${k} must be a whole number`); return v; };
function die(msg) { console.error(`peers.mjs: ${msg}`); process.exit(2); }

const cfg = {
  n: int('n', 2000), warmup: int('warmup', 200), warmupSeconds: int('warmup-seconds', 15), seconds: Number(opt('seconds', 5)),
  rounds: int('rounds', 1),
  levels: opt('levels', '1,8,32,128').split(',').filter(Boolean).map(Number),
  fsyncN: int('fsync-n', 2000), json: opt('json'),
  tmp: opt('tmp'), gatewayDll: opt('gateway-dll'), floorYarpDll: opt('floor-yarp-dll'), seEntry: opt('se-entry'), peersDir: opt('peers-dir'),
  readyTimeout: int('ready-timeout', 90), callTimeout: int('call-timeout', 15),
  only: opt('only'),
};
if (!cfg.tmp || !cfg.seEntry) die('--tmp and --se-entry are required (run bench/peers.sh)');
if (!(cfg.seconds > 0)) die('--seconds must be > 0');
if (!cfg.levels.length || cfg.levels.some((l) => !Number.isInteger(l) || l < 1 || l > 1024)) die('--levels must be integers 1..1024');
if (cfg.n < 1) die('--n must be at least 1');
if (cfg.rounds < 1 || cfg.rounds > 20) die('--rounds must be 1..20');

// Candidates: more gateway builds or settings, each measured as gateway-process is (upstream over HTTP, process mode) and
// interleaved with everything else, so a change to the call path is compared with the build before it in the same run.
// --candidate NAME[=DLL] (the gateway's build when no DLL), --candidate-env NAME:VARIABLE=VALUE, --candidate-arg NAME:ARG.
const candidates = new Map();
for (let i = 0; i < argv.length - 1; i++) {
  const [flag, value] = [argv[i], argv[i + 1]];
  if (flag === '--candidate') {
    const eq = value.indexOf('=');
    const name = eq < 0 ? value : value.slice(0, eq);
    if (!/^[a-z0-9][a-z0-9-]{0,10}$/.test(name)) die(`--candidate ${value}: the name must be 1-11 lower-case letters, digits or dashes`);
    if (candidates.has(name)) die(`--candidate ${name} is given twice`);
    const dll = eq < 0 ? undefined : path.resolve(value.slice(eq + 1));
    if (dll && !fs.existsSync(dll)) die(`--candidate ${value}: ${dll} does not exist`);
    candidates.set(name, { name, dll, env: {}, args: [] });
  }
}
for (let i = 0; i < argv.length - 1; i++) {
  const [flag, value] = [argv[i], argv[i + 1]];
  if (flag !== '--candidate-env' && flag !== '--candidate-arg') continue;
  const colon = value.indexOf(':');
  const c = colon > 0 ? candidates.get(value.slice(0, colon)) : undefined;
  if (!c) die(`${flag} ${value}: it must start with the name of a --candidate and a colon`);
  const rest = value.slice(colon + 1);
  if (flag === '--candidate-arg') { c.args.push(rest); continue; }
  const eq = rest.indexOf('=');
  if (eq < 1) die(`${flag} ${value}: VARIABLE=VALUE expected after the colon`);
  c.env[rest.slice(0, eq)] = rest.slice(eq + 1);
}
if (candidates.size > 4) die('at most 4 --candidate builds');
if ([...candidates.values()].some((c) => !c.dll) && !cfg.gatewayDll) die('a --candidate without a DLL needs --gateway-dll');

const ARGS = { message: 'hello' };
const ECHO = `Echo: ${ARGS.message}`;   // what server-everything's echo answers
const PROTOCOL = '2025-11-25';   // sessionful revision: every target hands out an Mcp-Session-Id (or an SSE session)
// The revision mcp-hub 4.2.1 asks its upstreams for (its bundled SDK's newest), whatever its client speaks; see direct-0618.
const PROTOCOL_0618 = '2025-06-18';
const AGENT_KEY = 'bench-agent-key-0123456789';

// ---------------------------------------------------------------- raw MCP client
// Each session has its own keep-alive agent, i.e. its own connection(s), as separate clients would. (With one shared
// pool, sessions opened one after another share a socket, and the throughput run began with a burst of new
// connections: see throughputRun.)
const newAgent = () => new http.Agent({ keepAlive: true });
const probeAgent = newAgent();   // one-off requests (/readyz)

// SSE frames: "event: x\ndata: ...\n\n". Returns the complete events and the unparsed remainder.
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
// whether the body is JSON or an SSE stream (the stream is still drained so the socket can be reused).
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
        if (sse || id === undefined) return reply(undefined);
        const m = tryJson(buf);
        reply(m ?? { rawBody: buf.slice(0, 300) });
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

// Streamable HTTP (2025-11-25): initialize, notifications/initialized, then requests carrying Mcp-Session-Id.
class HttpSession {
  constructor(t) { this.t = t; this.nextId = 1; this.sid = undefined; this.version = t.protocol ?? PROTOCOL; this.agent = newAgent(); }
  headers(extra = {}) {
    const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': this.version, ...extra };
    if (this.t.token) h.authorization = `Bearer ${this.t.token}`;
    if (this.sid) h['mcp-session-id'] = this.sid;
    return h;
  }
  async rpc(method, params) {
    const id = this.nextId++;
    const r = await exchange(this.agent, 'POST', this.t.url, this.headers(), JSON.stringify({ jsonrpc: '2.0', id, method, params }), id, cfg.callTimeout * 1000);
    this.sid = r.headers['mcp-session-id'] ?? this.sid;
    return checkReply(r, id);
  }
  async open() {
    const init = await this.rpc('initialize', { protocolVersion: this.version, capabilities: {}, clientInfo: { name: 'mcp-gateway-bench', version: '1.0.0' } });
    this.version = init.protocolVersion ?? this.version;
    const r = await exchange(this.agent, 'POST', this.t.url, this.headers(), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), undefined, cfg.callTimeout * 1000);
    if (r.status >= 400) throw new Error(`notifications/initialized: HTTP ${r.status}`);
    return this;
  }
  async close() {
    if (this.sid) await exchange(this.agent, 'DELETE', this.t.url, this.headers(), undefined, undefined, 5000).catch(() => {});
    this.agent.destroy();
  }
}

// Legacy HTTP+SSE (mcp-hub's only downstream transport): GET opens the stream, whose first event names the URL to
// POST messages to; replies come back on the stream, matched by id.
class SseSession {
  constructor(t) { this.t = t; this.nextId = 1; this.pending = new Map(); this.req = undefined; this.endpoint = undefined; this.agent = newAgent(); }
  open() {
    return new Promise((resolve, reject) => {
      const u = new URL(this.t.url);
      const timer = setTimeout(() => { this.req?.destroy(); reject(new Error('no endpoint event within the call timeout')); }, cfg.callTimeout * 1000);
      this.req = http.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: this.agent,
        headers: { accept: 'text/event-stream', ...(this.t.token ? { authorization: `Bearer ${this.t.token}` } : {}) } }, (res) => {
        if (res.statusCode !== 200) { clearTimeout(timer); res.resume(); return reject(new Error(`GET ${this.t.url}: HTTP ${res.statusCode}`)); }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          const parsed = sseEvents(buf + chunk); buf = parsed.rest;
          for (const e of parsed.events) {
            if (e.event === 'endpoint' && !this.endpoint) {
              this.endpoint = new URL(e.data, this.t.url).toString();
              clearTimeout(timer);
              this.handshake().then(resolve, reject);
            } else if (e.event === 'message') {
              const m = tryJson(e.data), p = m && this.pending.get(m.id);
              if (p) { this.pending.delete(m.id); clearTimeout(p.timer); m.error ? p.reject(new Error(`JSON-RPC error ${m.error.code}: ${m.error.message}`)) : p.resolve(m.result); }
            }
          }
        });
        res.on('end', () => this.failAll(new Error('SSE stream ended')));
        res.on('error', (e) => this.failAll(e));
      });
      this.req.on('error', (e) => { clearTimeout(timer); reject(e); this.failAll(e); });
      this.req.end();
    });
  }
  failAll(e) { for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(e); } this.pending.clear(); }
  async post(msg) {
    const r = await exchange(this.agent, 'POST', this.endpoint, { 'content-type': 'application/json', ...(this.t.token ? { authorization: `Bearer ${this.t.token}` } : {}) },
      JSON.stringify(msg), undefined, cfg.callTimeout * 1000);
    if (r.status >= 400) throw new Error(`POST ${this.endpoint}: HTTP ${r.status}`);
  }
  async rpc(method, params) {
    const id = this.nextId++;
    const reply = new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`no reply within ${cfg.callTimeout} s`)); }, cfg.callTimeout * 1000);
      this.pending.set(id, { resolve, reject, timer });
    });
    reply.catch(() => {});   // a failed POST rejects below; keep the orphaned reply from crashing the process
    try { await this.post({ jsonrpc: '2.0', id, method, params }); }
    catch (e) { const p = this.pending.get(id); if (p) { clearTimeout(p.timer); this.pending.delete(id); } throw e; }
    return reply;
  }
  async handshake() {
    await this.rpc('initialize', { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'mcp-gateway-bench', version: '1.0.0' } });
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return this;
  }
  async close() { this.failAll(new Error('closed')); this.req?.destroy(); this.agent.destroy(); }
}

// stdio (newline-delimited JSON-RPC) to a server-everything child of the run's own: the baseline of the targets that
// reach their upstream over stdio. A stdio server has one client, so every session of a target shares the child (one
// initialize), each call with its own id: N sessions are N callers with one call in flight each, as over HTTP.
class StdioLink {
  constructor(proc) {
    this.proc = proc; this.nextId = 1; this.pending = new Map(); this.buf = '';
    proc.child.stdout.setEncoding('utf8');
    proc.child.stdout.on('data', (chunk) => {
      this.buf += chunk;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const m = tryJson(this.buf.slice(0, i)); this.buf = this.buf.slice(i + 1);
        const p = m && m.id !== undefined && !m.method && this.pending.get(m.id);   // requests and notifications from the server are not replies
        if (!p) continue;
        this.pending.delete(m.id); clearTimeout(p.timer);
        m.error ? p.reject(new Error(`JSON-RPC error ${m.error.code}: ${m.error.message}`)) : p.resolve(m.result);
      }
    });
    proc.child.on('exit', () => { for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('the stdio server exited')); } this.pending.clear(); });
  }
  send(msg) { this.proc.child.stdin.write(`${JSON.stringify(msg)}\n`); }
  rpc(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`no reply within ${cfg.callTimeout} s`)); }, cfg.callTimeout * 1000);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }
  ready() {
    this.initialized ??= (async () => {
      await this.rpc('initialize', { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'mcp-gateway-bench', version: '1.0.0' } });
      this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    })();
    this.initialized.catch(() => { this.initialized = undefined; });   // a failed handshake is tried again by the next open
    return this.initialized;
  }
}
class StdioSession {
  constructor(t) { this.t = t; }
  async open() { if (!this.t.link) throw new Error('the stdio server is not started'); await this.t.link.ready(); return this; }
  rpc(method, params) { return this.t.link.rpc(method, params); }
  async close() { /* the child is shared by the target's sessions and stopped with the run */ }
}

const session = (t) => (t.kind === 'sse' ? new SseSession(t) : t.kind === 'stdio' ? new StdioSession(t) : new HttpSession(t));
async function callEcho(s) {
  const r = await s.rpc('tools/call', { name: s.t.tool, arguments: ARGS });
  if (r?.isError) throw new Error(`tool error: ${JSON.stringify(r.content).slice(0, 200)}`);
  // The echo itself, so a target that answered without reaching the upstream could not count as a call.
  if (r?.content?.[0]?.text !== ECHO) throw new Error(`not the echo: ${JSON.stringify(r).slice(0, 200)}`);
  return r;
}

// ---------------------------------------------------------------- processes
const { procs, start, stopAll, markedPids } = processes(cfg.tmp);
// On a signal the phases stop at their next call (rather than reporting the stopped targets as failed).
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

// CPU time (clock ticks) and parent of every process of this run, by pid (their unmarked descendants included).
const cpuByPid = () => cpuTicks(markedPids());

// CPU per call over a measured window, in ms: the target's own process (the proxy), the upstream it calls (the shared
// server-everything, or the target's own stdio children), every other process of the run (the idle targets: their
// health checks, timers, logs) and the client (this process). Unlike calls/s, these hardly move with the machine's
// load: they say what a hop costs, and what it makes its upstream spend per call. A clock tick is 10 ms; a window
// holds hundreds.
const TICK_MS = 1000 / TICKS_PER_SECOND;
let sharedUpstreamPid;
function cpuPerCall(t, before, after, client, calls) {
  if (!calls) return undefined;
  const own = t.launch ? t.proc?.child?.pid : undefined;   // direct and direct-0618 have none; direct-stdio's process is its upstream
  const stdioWired = t.name === 'direct-stdio' || t.base?.name === 'direct-stdio';
  const descends = (pid) => {   // from the target's process (a stdio server it started, maybe through a shell)
    for (let p = after.get(pid)?.parent, hops = 0; p && hops < 8; p = after.get(p)?.parent, hops++) if (p === own) return true;
    return false;
  };
  let proxy = 0, upstream = 0, rest = 0;
  for (const [pid, { ticks }] of after) {
    const used = ticks - (before.get(pid)?.ticks ?? ticks);   // a process started in the window counts from its first look
    if (own && pid === own) { if (t.baseline) upstream += used; else proxy += used; }
    else if ((own && descends(pid)) || (!stdioWired && pid === sharedUpstreamPid)) upstream += used;
    else rest += used;
  }
  const ms = (x) => (x * TICK_MS) / calls;
  return { proxy: own && !t.baseline ? ms(proxy) : undefined, upstream: ms(upstream), rest: ms(rest), client: (client.user + client.system) / 1000 / calls };
}

// Waits until this run's processes are quiet, so one target's teardown (supergateway stopping 128 children, mcp-hub
// logging 128 disconnects) is not measured as the next target's cost. Bounded: false after 15 s.
const settle = () => settleProcesses(markedPids, { maxMs: 15000, check: checkInterrupt });

const tail = (file, lines = 6) => {
  try { return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `      | ${l.slice(0, 200)}`).join('\n'); } catch { return ''; }
};

async function freePorts(k) {
  const servers = await Promise.all(Array.from({ length: k }, () => new Promise((res, rej) => {
    const s = net.createServer(); s.on('error', rej); s.listen(0, '127.0.0.1', () => res(s));
  })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

// Node preload given to server-everything and the peers: several listen on every interface by default (they have
// no host option); this pins each listening socket to 127.0.0.1, and refuses outbound connections beyond loopback
// (mcp-hub fetches a marketplace catalog from the internet at start; see its seeded cache below).
const LOOPBACK_PRELOAD = `'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...a) {
  if (typeof a[0] === 'number' || (typeof a[0] === 'string' && /^\\d+$/.test(a[0]))) {
    if (typeof a[1] === 'string') a[1] = '127.0.0.1'; else a.splice(1, 0, '127.0.0.1');
  } else if (a[0] && typeof a[0] === 'object' && 'port' in a[0]) a[0] = { ...a[0], host: '127.0.0.1' };
  return listen.apply(this, a);
};
const loopback = (h) => h === undefined || h === 'localhost' || /^127\\./.test(h) || h === '::1' || h === '::ffff:127.0.0.1';
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...a) {
  const o = Array.isArray(a[0]) ? a[0][0] : a[0];
  const host = o && typeof o === 'object' ? (o.path ? undefined : o.host) : (typeof a[1] === 'string' ? a[1] : undefined);
  if (typeof o === 'string' && !/^\\d+$/.test(o)) return connect.apply(this, a);   // a unix socket path
  if (!loopback(host)) { process.nextTick(() => this.destroy(new Error('mcp-gateway-bench: connection to ' + host + ' refused (loopback only)'))); return this; }
  return connect.apply(this, a);
};
`;

// ---------------------------------------------------------------- targets
const wanted = (name) => !cfg.only || cfg.only.split(',').some((w) => w === name || name.startsWith(`${w}-`));
const nodeModules = cfg.peersDir && path.join(cfg.peersDir, 'node_modules');
const seStdio = `${process.execPath} ${cfg.seEntry} stdio`;

function buildTargets(ports) {
  const up = ports.upstream;
  const upUrl = `http://127.0.0.1:${up}/mcp`;
  const preload = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(cfg.tmp, 'loopback.cjs')}`.trim() };
  // Three baselines: each target's added latency and throughput ratio are against the one wired as it is.
  const direct = { name: 'direct', kind: 'http', url: upUrl, tool: 'echo', baseline: true, via: 'raw client -> server-everything streamable HTTP (the baseline of HTTP-wired targets)' };
  // server-everything's answer costs more at 2025-11-25 (a priming event and an event store: p50 about 2.0 against 0.4 ms
  // on 2026-12-06). It goes by the request's MCP-Protocol-Version header: a target whose upstream leg speaks 2025-06-18
  // (mcp-hub: its bundled SDK's newest, whatever its client asks) or sends no such header (civic: it initializes at
  // 2025-11-25, then omits the header the revision requires, and is served as the default, older revision) gets the
  // cheaper answer, so it is measured against a client at 2025-06-18, or that answer counts as its own speed.
  const direct0618 = { name: 'direct-0618', kind: 'http', url: upUrl, tool: 'echo', baseline: true, protocol: PROTOCOL_0618,
    via: `raw client at ${PROTOCOL_0618} -> server-everything streamable HTTP (the baseline of targets served without the 2025-11-25 priming: mcp-hub, civic, gateway-process-0618)` };
  const directStdio = { name: 'direct-stdio', kind: 'stdio', tool: 'echo', baseline: true, url: 'stdio',
    via: 'raw client -> its own server-everything over stdio (the baseline of stdio-wired targets)',
    launch() { const p = start('direct-stdio', process.execPath, [cfg.seEntry, 'stdio'], { env: preload, pipeStdout: true }); this.link = new StdioLink(p); return p; } };
  const list = [direct, directStdio, direct0618];
  const maxSessions = Math.max(...cfg.levels) * 2 + 16;   // the gateway's per-agent cap (default 100) must not shape the 128 level

  // Both durability modes, each wired two ways: to the upstream's streamable HTTP (as direct is), and to its own
  // server-everything over stdio, the wiring supergateway and mcp-proxy have (like for like with them).
  const http = ['--Gateway:Servers:everything:Transport=http', `--Gateway:Servers:everything:Url=${upUrl}`];
  const stdio = ['--Gateway:Servers:everything:Transport=stdio', `--Gateway:Servers:everything:Command=${process.execPath}`,
    `--Gateway:Servers:everything:Args:0=${cfg.seEntry}`, '--Gateway:Servers:everything:Args:1=stdio'];
  const process_ = ['--Gateway:Audit:Durability=process'];
  // gateway-process-0618 is gateway-process with its upstream leg pinned to 2025-06-18 (Gateway:Upstreams:ProtocolVersion),
  // as mcp-hub's is: like for like with it, against direct-0618.
  const pinned = [...process_, `--Gateway:Upstreams:ProtocolVersion=${PROTOCOL_0618}`];
  const gateways = [['gateway-default', http, []], ['gateway-process', http, process_],
    ['gateway-stdio-default', stdio, []], ['gateway-stdio-process', stdio, process_], ['gateway-process-0618', http, pinned]]
    .filter(([name]) => wanted(name)).map(([name, wiring, extra]) => ({ name, wiring, extra, dll: cfg.gatewayDll, env: {} }));
  // A candidate's own arguments come last: a setting it names again wins over the ones before it.
  for (const c of candidates.values()) {
    gateways.push({ name: `candidate-${c.name}`, wiring: http, extra: [...process_, ...c.args], dll: c.dll ?? cfg.gatewayDll, env: c.env,
      note: `${c.dll ? `build ${c.dll}` : 'the gateway\'s build'}${Object.keys(c.env).length ? `, ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}` });
  }
  for (const { name, wiring, extra, dll, env, note } of gateways) {
    const port = ports[name], data = path.join(cfg.tmp, name);
    list.push({
      name, kind: 'http', url: `http://127.0.0.1:${port}/mcp`, token: AGENT_KEY, tool: 'everything__echo', readyz: `http://127.0.0.1:${port}/readyz`,
      base: extra === pinned ? direct0618 : wiring === http ? direct : directStdio,
      dataDir: data,
      via: `gateway -> ${wiring === http ? 'server-everything streamable HTTP (Gateway:Servers:everything:Transport=http)' : 'its own server-everything over stdio (Transport=stdio)'}${extra.length ? `, ${extra.map((e) => e.replace(/^--/, '')).join(', ')}` : ', default durability'}${note ? `; ${note}` : ''}`,
      launch: () => {
        fs.mkdirSync(data, { recursive: true });
        // The working directory is the dll's folder: its appsettings.json and static web assets are the content root.
        return start(name, 'dotnet', [dll,
          `--urls=http://127.0.0.1:${port}`, '--environment=Production',
          `--ConnectionStrings:Gateway=Data Source=${path.join(data, 'gateway.db')}`,
          '--Logging:LogLevel:Default=Warning',
          `--Gateway:Admin:ApiKey=${crypto.randomBytes(24).toString('hex')}`,
          `--Gateway:Admin:BootstrapPassword=${crypto.randomBytes(8).toString('hex')}`,
          `--Gateway:Agents:bench:ApiKey=${AGENT_KEY}`, '--Gateway:Agents:bench:Grants:0=everything/*',
          ...wiring,
          // One agent drives every session: its per-agent limits (16 calls in flight by default) must not shape the levels.
          `--Gateway:Mcp:MaxSessionsPerAgent=${maxSessions}`, '--Gateway:Limits:MaxConcurrentCalls=0', ...extra], { cwd: path.dirname(dll), env });
      },
    });
  }

  // Two floors: bare proxies with no MCP processing at all, one per runtime. They are not peers (nothing governs,
  // nothing is parsed): they say what the hop alone costs on this machine, so the gateway's own work is the gap between
  // it and floor-yarp (the same runtime, Kestrel in and SocketsHttpHandler out), and a Node peer's is its gap to floor-node.
  if (wanted('floor-yarp') && cfg.floorYarpDll) list.push({ name: 'floor-yarp', kind: 'http', tool: 'echo', base: direct, floor: true,
    url: `http://127.0.0.1:${ports['floor-yarp']}/mcp`,
    via: 'bench/Floor.Yarp: Kestrel + YARP\'s forwarder, bytes passed through unchanged -> server-everything streamable HTTP (no MCP processing)',
    launch: () => start('floor-yarp', 'dotnet', [cfg.floorYarpDll, `--urls=http://127.0.0.1:${ports['floor-yarp']}`, `--Upstream=http://127.0.0.1:${up}/`],
      { cwd: path.dirname(cfg.floorYarpDll) }) });
  if (wanted('floor-node')) list.push({ name: 'floor-node', kind: 'http', tool: 'echo', base: direct, floor: true,
    url: `http://127.0.0.1:${ports['floor-node']}/mcp`,
    via: 'bench/lib/floor-proxy.mjs: node:http in, node:http keep-alive agent out, bodies piped unchanged -> server-everything streamable HTTP (no MCP processing)',
    launch: () => start('floor-node', process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'floor-proxy.mjs'),
      String(ports['floor-node']), `http://127.0.0.1:${up}`], { env: preload }) });

  const peer = (name, target, launch) => { if (wanted(name)) list.push({ name, kind: 'http', tool: 'echo', base: direct, ...target, launch }); };

  peer('supergateway', { url: `http://127.0.0.1:${ports.supergateway}/mcp`, base: directStdio,
    via: 'supergateway --stateful: HTTP -> its own server-everything over stdio, one child process per session (no HTTP-upstream mode: --streamableHttp only bridges to stdio)' },
  () => start('supergateway', process.execPath, [path.join(nodeModules, 'supergateway/dist/index.js'),
    '--stdio', seStdio, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(ports.supergateway), '--logLevel', 'none'], { env: preload }));

  peer('mcp-proxy', { url: `http://127.0.0.1:${ports['mcp-proxy']}/mcp`, base: directStdio,
    via: 'mcp-proxy --server stream: HTTP -> one server-everything over stdio shared by all sessions (it wraps a command only)' },
  () => start('mcp-proxy', process.execPath, [path.join(nodeModules, 'mcp-proxy/dist/bin/mcp-proxy.mjs'),
    '--host', '127.0.0.1', '--port', String(ports['mcp-proxy']), '--server', 'stream', '--', process.execPath, cfg.seEntry, 'stdio'], { env: preload }));

  peer('mcp-hub', { kind: 'sse', url: `http://127.0.0.1:${ports['mcp-hub']}/mcp`, tool: 'everything__echo', base: direct0618,
    via: `mcp-hub: legacy HTTP+SSE (its only MCP endpoint) -> server-everything streamable HTTP (type streamable-http) at ${PROTOCOL_0618}` },
  () => {
    // mcp-hub keeps logs, state and a marketplace cache under HOME/XDG folders: give it its own, and seed a fresh
    // catalog so it does not try to download one at start.
    const home = path.join(cfg.tmp, 'mcp-hub');
    const cache = path.join(home, 'data', 'mcp-hub', 'cache');
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, 'registry.json'), JSON.stringify({
      registry: { version: 'bench', generatedAt: Date.now(), totalServers: 1, servers: [{ id: 'bench-placeholder', name: 'placeholder' }] },
      lastFetchedAt: Date.now(), serverDocumentation: {} }));
    const config = path.join(home, 'hub.json');
    fs.writeFileSync(config, JSON.stringify({ mcpServers: { everything: { type: 'streamable-http', url: upUrl } } }));
    // It logs at debug level to its own file whatever we ask (about 0.5 MB per client disconnect: its SSE close
    // handler recurses until the stack overflows), so its output is not kept a second time.
    return start('mcp-hub', process.execPath, [path.join(nodeModules, 'mcp-hub/dist/cli.js'), '--port', String(ports['mcp-hub']), '--config', config], {
      env: { ...preload, HOME: home, XDG_DATA_HOME: path.join(home, 'data'), XDG_STATE_HOME: path.join(home, 'state'), XDG_CONFIG_HOME: path.join(home, 'config') },
      cwd: home, ownLog: path.join(home, 'state', 'mcp-hub', 'logs', 'mcp-hub.log') });
  });

  peer('civic', { url: `http://127.0.0.1:${ports.civic}/mcp`, base: direct0618,
    via: '@civic/passthrough-mcp-server: HTTP -> server-everything streamable HTTP, one upstream session per client session (initialized at 2025-11-25, later requests without MCP-Protocol-Version)' },
  // Its cli.js runs only when argv[1] is its own real path (an import.meta.url check), so no .bin symlink.
  () => start('civic', process.execPath, [fs.realpathSync(path.join(nodeModules, '@civic/passthrough-mcp-server/dist/cli.js'))], {
    env: { ...preload, PORT: String(ports.civic), TARGET_SERVER_URL: `http://127.0.0.1:${up}`, TARGET_SERVER_MCP_PATH: '/mcp' } }));

  return list;
}

// Ready = the process is up and a fresh session lists the echo tool (the gateway: /readyz first). Polled, with a deadline.
async function waitReady(t, deadline) {
  let last = 'not polled yet';
  while (Date.now() < deadline) {
    checkInterrupt();
    if (t.proc?.exited) throw new Error(`${t.proc.exited}; last log lines:\n${tail(t.proc.log)}`);
    try {
      if (t.readyz && !t.readyzOk) {
        const r = await exchange(probeAgent, 'GET', t.readyz, {}, undefined, undefined, 3000);
        if (r.status !== 200) throw new Error(`/readyz: HTTP ${r.status}`);
        t.readyzOk = true;
      }
      const s = await session(t).open();
      try {
        const tools = (await s.rpc('tools/list', {}))?.tools ?? [];
        if (tools.some((x) => x.name === t.tool)) return;
        last = `tools/list has no ${t.tool} yet (${tools.length} tools)`;
      } finally { await s.close(); }
    } catch (e) { last = e.code ?? e.message; }
    await delay(200);
  }
  throw new Error(`not ready within ${cfg.readyTimeout} s (last: ${last})${t.proc ? `; last log lines:\n${tail(t.proc.log)}` : ''}`);
}

// ---------------------------------------------------------------- measurements
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
function stats(xs) {
  if (!xs.length) return undefined;
  const s = Float64Array.from(xs).sort();
  return { n: s.length, min: s[0], p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

// The gateway's durability floor: one 512-byte append made durable, in the folder that holds its database. With a
// gap, each append comes that many milliseconds after the previous one: the gateway's commits come one per call, not
// back to back, and on the development VM a flush after a 4 ms pause cost about twice as much (p50 0.41-0.48 ms
// against 0.16-0.24 ms; 2026-12-02).
async function fdatasyncBench(dir, n, gapMs = 0) {
  const file = path.join(dir, 'fdatasync-probe.bin');
  const buf = Buffer.alloc(512, 0x61);
  const fd = fs.openSync(file, 'a');
  const lat = [];
  try {
    for (let i = 0; i < n; i++) {
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      const t0 = performance.now();
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
      lat.push(performance.now() - t0);
    }
  } finally { fs.closeSync(fd); fs.rmSync(file, { force: true }); }
  return { dir, fs: fsType(dir), gapMs, ...stats(lat) };
}
function fsType(dir) {
  const names = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlay', 0x2fc12fc1: 'zfs' };
  try { const t = fs.statfsSync(dir).type; return names[t] ?? `0x${t.toString(16)}`; } catch { return 'unknown'; }
}

// Sequential calls, one session per target, interleaved call by call in an order shuffled every round (seeded).
async function latencyPhase(live) {
  const MAX_STRAIGHT_ERRORS = 20;
  for (const t of live) { t.lat = []; t.errors = 0; t.straight = 0; }
  let targets = live;
  const shuffle = shuffler(20261207);
  for (let i = 0; i < cfg.warmup + cfg.n && targets.length; i++) {
    for (const t of shuffle(targets)) {
      checkInterrupt();
      const t0 = performance.now();
      try { await callEcho(t.session); if (i >= cfg.warmup) t.lat.push(performance.now() - t0); t.straight = 0; }
      catch (e) {
        t.errors++; t.lastError = e.message;
        if (++t.straight >= MAX_STRAIGHT_ERRORS) t.failed = `latency: ${MAX_STRAIGHT_ERRORS} calls in a row failed (${e.message})${t.proc?.exited ? `; the process ${t.proc.exited}` : ''}`;
      }
    }
    targets = targets.filter((t) => !t.failed);
    if (i === cfg.warmup - 1 || (cfg.warmup === 0 && i === 0)) process.stdout.write('  warm-up done, measuring\n');
  }
  for (const t of live) t.latency = { ...stats(t.lat), errors: t.errors, lastError: t.lastError };
}

// Closed loop: L sessions, each with one call in flight at a time, for a fixed duration. Sessions are opened (8 at a
// time) before the clock starts, and closed after it stops, so the figure is calls, not handshakes.
async function throughputRun(t, level, seconds = cfg.seconds) {
  // Quiet first (the previous run's teardown), then open: with 128 live sessions server-everything never goes quiet
  // (it sends every session periodic notifications), so waiting after opening would only time out.
  const settled = await settle();
  const sessions = [];
  const openUntil = Date.now() + Math.max(60, level) * 1000;
  try {
    for (let i = 0; i < level; i += 8) {
      checkInterrupt();
      if (Date.now() > openUntil) throw new Error(`opening ${level} sessions took too long`);
      const batch = await Promise.allSettled(Array.from({ length: Math.min(8, level - i) }, () => session(t).open()));
      sessions.push(...batch.filter((b) => b.status === 'fulfilled').map((b) => b.value));   // opened ones get closed below
      const failed = batch.find((b) => b.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (e) {
    await Promise.all(sessions.map((s) => s.close()));
    if (e instanceof Interrupted) throw e;
    return { level, error: `could not open session ${sessions.length + 1} of ${level}: ${e.message}` };
  }
  // One unmeasured call per session, all at once, right before the clock: servers close idle keep-alive connections
  // (Node's after 5 s, and opening 128 sessions can take longer), and a burst of 128 new connections at the start
  // stalled calls for about 3 s on every target, direct included (p99 = the run's length). Measured calls then run
  // on established connections.
  await Promise.all(sessions.map((s) => callEcho(s).catch(() => {})));
  const lat = [];
  let ok = 0, errors = 0, lastError;
  const cpu0 = cpuByPid(), client0 = process.cpuUsage();
  const t0 = performance.now(), end = t0 + seconds * 1000;
  await Promise.all(sessions.map(async (s) => {
    while (performance.now() < end && errors < 200 && !interrupted) {
      const c0 = performance.now();
      try { await callEcho(s); lat.push(performance.now() - c0); ok++; }
      catch (e) { errors++; lastError = e.message; }
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuPerCall(t, cpu0, cpuByPid(), process.cpuUsage(client0), ok);
  await Promise.all(sessions.map((s) => s.close()));
  checkInterrupt();
  const st = stats(lat);
  return { level, calls: ok, errors, lastError, seconds: elapsed, callsPerSec: ok / elapsed, p50: st?.p50, p99: st?.p99, settled, cpu };
}

// ---------------------------------------------------------------- output helpers
const f = (x, d = 3) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
const sgn = (x) => (x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
const pad = (s, w) => String(s).padStart(w);
const padR = (s, w) => String(s).padEnd(w);
const uptimeLine = () => { try { return execFileSync('uptime', { encoding: 'utf8' }).trim(); } catch { return `load average: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`; } };

// ---------------------------------------------------------------- main
async function main() {
  const report = { startedAt: new Date().toISOString(), options: { ...cfg }, machine: { cores: os.cpus().length, node: process.version } };
  const upStart = uptimeLine();
  report.machine.uptimeStart = upStart; report.machine.loadStart = os.loadavg();
  console.log(`== MCP gateway vs peers, ${new Date().toISOString()}, ${os.cpus().length} cores, node ${process.version}`);
  console.log(`uptime at start: ${upStart}`);

  fs.writeFileSync(path.join(cfg.tmp, 'loopback.cjs'), LOOPBACK_PRELOAD);
  const names = ['upstream', 'gateway-default', 'gateway-process', 'gateway-stdio-default', 'gateway-stdio-process', 'gateway-process-0618', 'supergateway', 'mcp-proxy', 'mcp-hub', 'civic', 'floor-yarp', 'floor-node',
    ...[...candidates.keys()].map((n) => `candidate-${n}`)];
  const ports = Object.fromEntries((await freePorts(names.length)).map((p, i) => [names[i], p]));

  const upstream = start('server-everything', process.execPath, streamableHttpArgs(path.join(cfg.tmp, 'loopback.cjs'), cfg.seEntry),
    { env: { PORT: String(ports.upstream) }, cwd: path.dirname(cfg.seEntry) });
  const targets = buildTargets(ports);
  if (cfg.only && !wanted('direct')) console.log('(direct, direct-stdio and direct-0618 are always measured: they are the baselines)');
  targets[0].proc = upstream;
  sharedUpstreamPid = upstream.child.pid;

  // The upstream must answer before the others start: mcp-hub tries its upstream once at start and never again.
  // Then all start and are polled in parallel (the gateways' .NET start-up overlaps the peers').
  console.log(`\n== Targets (upstream: server-everything streamable HTTP on 127.0.0.1:${ports.upstream}/mcp; stdio peers spawn node ${cfg.seEntry} stdio)`);
  const deadline = Date.now() + cfg.readyTimeout * 1000;
  try { await waitReady(targets[0], deadline); } catch (e) { console.log(`  direct: FAILED ${e.message}`); await stopAll(); process.exit(1); }
  for (const t of targets) if (t.launch) { try { t.proc = t.launch(); } catch (e) { t.failed = `could not start: ${e.message}`; } }
  const readyT0 = performance.now();
  await Promise.all(targets.slice(1).filter((t) => !t.failed).map(async (t) => {
    try { await waitReady(t, deadline); t.readyAfter = (performance.now() - readyT0) / 1000; } catch (e) { if (e instanceof Interrupted) throw e; t.failed = `not ready: ${e.message}`; }
  }));
  for (const t of targets) {
    console.log(`  ${padR(t.name, 21)} ${t.failed ? `FAILED, skipped: ${t.failed}` : `ready${t.readyAfter !== undefined ? ` (${t.readyAfter.toFixed(1)} s)` : ''}; ${t.url} tool ${t.tool}`}`);
    console.log(`  ${' '.repeat(16)} via ${t.via}`);
  }

  // The durability floor, measured where the gateway keeps its database, before the calls start.
  const gw = targets.find((t) => t.dataDir && !t.failed) ?? targets.find((t) => t.dataDir);
  const fsyncDir = gw?.dataDir ?? cfg.tmp;
  fs.mkdirSync(fsyncDir, { recursive: true });
  const fsync = cfg.fsyncN ? await fdatasyncBench(fsyncDir, cfg.fsyncN) : undefined;
  report.fdatasync = fsync;
  if (fsync) console.log(`\n== fdatasync: ${fsync.n} x (write 512 B + fdatasync) in ${fsync.dir} (${fsync.fs}): p50 ${f(fsync.p50)} ms, p90 ${f(fsync.p90)} ms, p99 ${f(fsync.p99)} ms, max ${f(fsync.max)} ms`);
  const paced = cfg.fsyncN ? await fdatasyncBench(fsyncDir, Math.min(cfg.fsyncN, 500), 4) : undefined;
  report.fdatasyncPaced = paced;
  if (paced) console.log(`   paced, ${paced.n} x the same after a ${paced.gapMs} ms pause each (a call's cadence): p50 ${f(paced.p50)} ms, p90 ${f(paced.p90)} ms, p99 ${f(paced.p99)} ms, max ${f(paced.max)} ms`);

  // Warm-up under load, every target the same: the latency phase's own warm-up calls last about a second, and a .NET
  // process is still tiering its code up then (on the 2-core machine the gateway's sequential throughput climbed
  // for about a minute after start); Node's peers warm up too. Then every target is measured in its steady state.
  let live = targets.filter((t) => !t.failed);
  if (cfg.warmupSeconds > 0) {
    console.log(`\n== Warm-up: 8 closed-loop sessions for ${cfg.warmupSeconds} s per target (not measured)`);
    for (const t of live) {
      const r = await throughputRun(t, 8, cfg.warmupSeconds);
      console.log(`  ${padR(t.name, 21)} ${r.error ? `FAILED: ${r.error}` : `${pad(r.callsPerSec.toFixed(0), 6)} calls/s${r.errors ? `, ${r.errors} errors (${r.lastError})` : ''}`}`);
    }
  }

  // Latency.
  live = targets.filter((t) => !t.failed);
  for (const t of live) {
    try { t.session = await session(t).open(); } catch (e) { t.failed = `session for the latency phase: ${e.message}`; }
  }
  live = live.filter((t) => !t.failed);
  if (!await settle()) console.log('\n(the targets were still busy after 15 s; measuring anyway)');
  console.log(`\n== Latency: tools/call echo ${JSON.stringify(ARGS)}, ${cfg.n} sequential calls per target after ${cfg.warmup} warm-up, interleaved call by call (order shuffled every round)`);
  await latencyPhase(live);
  await Promise.all(live.map((t) => t.session.close()));
  const direct = targets[0];
  console.log(`${padR('target', 21)} ${pad('ok', 6)} ${pad('err', 4)} ${pad('p50', 8)} ${pad('p90', 8)} ${pad('p99', 8)} ${pad('max', 8)}  ${pad('+p50', 8)} ${pad('+p90', 8)} ${pad('+p99', 8)}  (ms; + = added over the baseline wired the same way)`);
  for (const t of targets) {
    const l = t.latency, base = t.base?.latency;
    if (!l?.n) { console.log(`${padR(t.name, 21)} ${t.failed ? `skipped: ${t.failed.split('\n')[0]}` : 'no successful call'}`); continue; }
    t.added = base?.n ? { p50: l.p50 - base.p50, p90: l.p90 - base.p90, p99: l.p99 - base.p99 } : undefined;
    console.log(`${padR(t.name, 21)} ${pad(l.n, 6)} ${pad(l.errors, 4)} ${pad(f(l.p50), 8)} ${pad(f(l.p90), 8)} ${pad(f(l.p99), 8)} ${pad(f(l.max), 8)}  ${pad(sgn(t.added?.p50), 8)} ${pad(sgn(t.added?.p90), 8)} ${pad(sgn(t.added?.p99), 8)}${l.errors ? `  last error: ${l.lastError}` : ''}`);
    if (t.failed) console.log(`${' '.repeat(16)} stopped: ${t.failed}`);
  }

  // Throughput, level by level; within a level the targets take turns (rotating which goes first).
  live = targets.filter((t) => !t.failed);
  // With --rounds N every level runs N times on every target, the order rotating again each round, and a target's
  // figure at a level is its median round: on a noisy machine one run of a baseline can land in a slow second and
  // move every ratio at that level (direct served fewer calls at 32 sessions than at 8 in some runs).
  console.log(`\n== Throughput: closed-loop sessions (each its own initialize + session, one call in flight), ${cfg.seconds} s per level and target${cfg.rounds > 1 ? `, ${cfg.rounds} rounds (the median round counts)` : ''}`);
  for (let round = 0; round < cfg.rounds; round++) {
    for (const [li, level] of cfg.levels.entries()) {
      for (const t of rotate(live, (li + round) % live.length)) {
        const r = await throughputRun(t, level);
        ((t.throughputRounds ??= {})[level] ??= []).push(r);
        console.log(`  c=${pad(level, 3)} ${padR(t.name, 21)} ${cfg.rounds > 1 ? `round ${round + 1} ` : ''}${r.error ? `FAILED: ${r.error}` : `${pad(r.callsPerSec.toFixed(0), 6)} calls/s  p50 ${pad(f(r.p50, 2), 7)} ms  p99 ${pad(f(r.p99, 2), 7)} ms  ${pad(r.calls, 6)} calls  cpu/call ${r.cpu?.proxy === undefined ? '' : `proxy ${f(r.cpu.proxy)} `}upstream ${f(r.cpu?.upstream)} rest ${f(r.cpu?.rest)} client ${f(r.cpu?.client)} ms${r.errors ? `, ${r.errors} errors (${r.lastError})` : ''}${r.settled === false ? ' (started before the run\'s processes were quiet)' : ''}`}`);
      }
    }
  }
  // A level's figure: the median of its rounds (the lower middle one for an even N; a failed round fails the level);
  // then the ratios, now that every baseline's figure exists whatever the order was.
  for (const t of live) for (const level of cfg.levels) {
    const runs = t.throughputRounds?.[level] ?? [];
    const failed = runs.find((r) => r.error);
    const sorted = [...runs].sort((a, b) => a.callsPerSec - b.callsPerSec);
    const median = failed ?? sorted[Math.floor((sorted.length - 1) / 2)];
    if (median) (t.throughput ??= {})[level] = { ...median, rounds: runs.map((r) => (r.error ? null : Math.round(r.callsPerSec))) };
  }
  for (const t of live) for (const level of cfg.levels) {
    const r = t.throughput?.[level], d = t.base?.throughput?.[level];
    if (r && !r.error && d?.callsPerSec) r.ratio = r.callsPerSec / d.callsPerSec;
  }

  const upEnd = uptimeLine();
  report.machine.uptimeEnd = upEnd; report.machine.loadEnd = os.loadavg();

  // Summary.
  console.log(`\n== Summary: added latency over the baseline wired the same way (ms), throughput in calls/s (x that baseline)`);
  const lv = cfg.levels.map((l) => `c=${l}`);
  console.log(`${padR('target', 21)} ${pad('p50', 7)} ${pad('+p50', 7)} ${pad('+p90', 7)} ${pad('+p99', 7)} | ${lv.map((x) => pad(x, 13)).join(' ')}`);
  for (const t of targets) {
    const l = t.latency;
    const cells = cfg.levels.map((level) => {
      const r = t.throughput?.[level];
      if (!r) return pad('-', 13);
      if (r.error) return pad('failed', 13);
      return pad(r.ratio === undefined ? `${r.callsPerSec.toFixed(0)}` : `${r.callsPerSec.toFixed(0)} ${f(r.ratio, 2)}x`, 13);
    });
    if (!l?.n) { console.log(`${padR(t.name, 21)} ${pad('-', 7)} ${pad('-', 7)} ${pad('-', 7)} ${pad('-', 7)} | ${cells.join(' ')}  ${t.failed ? `(${t.failed.split('\n')[0].slice(0, 80)})` : ''}`); continue; }
    console.log(`${padR(t.name, 21)} ${pad(f(l.p50), 7)} ${pad(t.baseline ? '(base)' : sgn(t.added?.p50), 7)} ${pad(t.baseline ? '' : sgn(t.added?.p90), 7)} ${pad(t.baseline ? '' : sgn(t.added?.p99), 7)} | ${cells.join(' ')}`);
  }
  // What each target's process, its upstream and the idle rest spent per call (the median round's window), beside the
  // ratios it explains.
  const withCpu = targets.filter((t) => cfg.levels.some((l) => t.throughput?.[l]?.cpu));
  if (withCpu.length) {
    console.log(`CPU per call (ms; the median round's window) of the proxy's own process, of its upstream, and of the run's other (idle) processes: ${lv.join(' / ')}`);
    for (const t of withCpu) {
      const at = (k) => cfg.levels.map((l) => f(t.throughput?.[l]?.cpu?.[k])).join(' / ');
      console.log(`  ${padR(t.name, 21)} ${t.baseline ? ' '.repeat(6 + cfg.levels.length * 8) : `proxy ${at('proxy')} `}  upstream ${at('upstream')}   rest ${at('rest')}`);
    }
  }
  if (fsync) {
    const bar = fsync.p50 + 0.3;
    console.log(`fdatasync 512 B p50 ${f(fsync.p50)} ms, p99 ${f(fsync.p99)} ms (${fsync.fs}) -> gateway target: added p50 <= ${f(bar)} ms`);
    if (paced) console.log(`  (paced at a call's cadence: p50 ${f(paced.p50)} ms, p99 ${f(paced.p99)} ms; the target keeps the back-to-back figure)`);
    for (const t of targets.filter((x) => x.dataDir)) {
      report.gatewayTarget ??= {};
      report.gatewayTarget[t.name] = t.added ? { addedP50: t.added.p50, bar, meets: t.added.p50 <= bar } : undefined;
      console.log(`  ${padR(t.name, 21)} ${t.added ? `added p50 ${f(t.added.p50)} ms: ${t.added.p50 <= bar ? 'meets it' : `misses it by ${f(t.added.p50 - bar)} ms`}` : 'not measured'}`);
    }
  }
  // The hop alone: what each HTTP-wired gateway target adds beyond the bare .NET proxy in the same run (its own work:
  // MCP parsing, identity, policy, audit, guard), and each Node peer beyond the bare Node proxy.
  const floorOf = (x) => targets.find((t) => t.floor && t.added && t.base === x.base && t.name === (x.dataDir ? 'floor-yarp' : 'floor-node'));
  const overFloor = targets.filter((x) => !x.baseline && !x.floor && x.added && floorOf(x));
  if (overFloor.length) console.log('over the bare proxy of its runtime (added p50 minus the floor\'s, same baseline):');
  for (const x of overFloor) {
    const fl = floorOf(x);
    (report.overFloor ??= {})[x.name] = { floor: fl.name, floorAddedP50: fl.added.p50, addedP50: x.added.p50, overFloorP50: x.added.p50 - fl.added.p50 };
    console.log(`  ${padR(x.name, 21)} ${sgn(x.added.p50)} - ${fl.name} ${sgn(fl.added.p50)} = ${sgn(x.added.p50 - fl.added.p50)} ms`);
  }
  // Like for like: each gateway target against the peers measured on the same baseline (wired the same way).
  const peers = targets.filter((x) => !x.baseline && !x.dataDir && !x.floor);
  const gateways = targets.filter((x) => x.dataDir && x.latency?.n);
  if (gateways.length && peers.length) console.log('like for like (same baseline): added p50 below each peer\'s? calls/s above each peer\'s per level?');
  for (const g of gateways) {
    const same = peers.filter((x) => x.base === g.base && x.latency?.n);
    if (!same.length) continue;
    const cells = same.map((x) => {
      const below = g.added && x.added && g.added.p50 < x.added.p50;
      const levels = cfg.levels.map((l) => {
        const a = g.throughput?.[l]?.callsPerSec, b = x.throughput?.[l]?.callsPerSec;
        return a === undefined || b === undefined ? '-' : a > b ? 'yes' : 'no';
      });
      (report.likeForLike ??= {})[`${g.name} vs ${x.name}`] = { addedP50Below: below, throughputAbove: Object.fromEntries(cfg.levels.map((l, i) => [l, levels[i]])) };
      return `${x.name}: p50 ${below ? 'yes' : 'no'}, calls/s ${levels.join('/')}`;
    });
    console.log(`  ${padR(g.name, 21)} ${cells.join('; ')}`);
  }
  console.log('note: supergateway, mcp-proxy and gateway-stdio-* reach server-everything over stdio: their added figures and');
  console.log('      ratios are against direct-stdio; those of gateway-default/-process against direct; mcp-hub, civic and');
  console.log('      gateway-process-0618 get server-everything\'s answer without the 2025-11-25 priming (mcp-hub and the pinned');
  console.log(`      gateway talk ${PROTOCOL_0618}, civic sends no MCP-Protocol-Version), against direct-0618. Compare like with`);
  console.log('      like: server-everything answers faster over stdio than over HTTP, and without priming than with it.');
  console.log(`uptime at start: ${upStart}`);
  console.log(`uptime at end:   ${upEnd}`);

  report.targets = Object.fromEntries(targets.map((t) => [t.name, {
    via: t.via, url: t.url, tool: t.tool, baseline: t.base?.name, failed: t.failed, readySeconds: t.readyAfter,
    latency: t.latency, added: t.added, throughput: t.throughput,
  }]));
  if (cfg.json) { fs.writeFileSync(cfg.json, `${JSON.stringify(report, null, 2)}\n`); console.log(`figures written to ${cfg.json}`); }
  // A peer that cannot run is reported above and does not fail the run; the gateway failing does.
  return targets.some((t) => t.failed && (t === direct || t.dataDir)) ? 1 : 0;
}

let code = 1;
try { code = await main(); } catch (e) { if (e instanceof Interrupted) code = 130; else console.error(`peers.mjs: ${e.stack ?? e}`); }
await stopAll();
probeAgent.destroy();
process.exit(code);
