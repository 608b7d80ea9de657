// The floor of a Node proxy hop for bench/peers.sh: node's own http server in, node's own http client out (a
// keep-alive agent), bodies piped both ways unchanged, no MCP processing. The Node peers (mcp-hub, civic) are
// this plus their SDK's work; the gateway is the .NET floor (bench/Floor.Yarp) plus its own.
// Usage: node floor-proxy.mjs PORT UPSTREAM_ORIGIN   (e.g. 4100 http://127.0.0.1:4000)
import http from 'node:http';

const [port, origin] = process.argv.slice(2);
if (!port || !origin) { console.error('usage: floor-proxy.mjs PORT UPSTREAM_ORIGIN'); process.exit(2); }
const target = new URL(origin);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
// Hop-by-hop headers (RFC 9110 7.6.1) are the connection's, not the message's.
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const strip = (headers) => Object.fromEntries(Object.entries(headers).filter(([k]) => !hopByHop.has(k)));

http.createServer((req, res) => {
  const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, agent,
    headers: { ...strip(req.headers), host: target.host } }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, strip(ur.headers));
    ur.pipe(res);
  });
  up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
  req.pipe(up);
}).listen(Number(port), '127.0.0.1');
