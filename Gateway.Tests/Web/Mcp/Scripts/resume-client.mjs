// A 2025-11-25 agent (TypeScript SDK) that waits for one tools/list_changed on its session's standalone stream:
// node resume-client.mjs URL SECONDS. Prints "heard tools/list_changed" and exits 0, or exits 1 after SECONDS.
// Run behind a proxy that cuts the idle stream, it shows the client's reconnection (Last-Event-ID) was served.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const [url, seconds] = process.argv.slice(2);
const client = new Client({ name: 'resume-client', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: 'Bearer ' + process.env.MCP_BEARER } } });
transport.onerror = (e) => console.log('transport error: ' + e.message);
const heard = new Promise((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
await client.connect(transport);
console.log('connected');
const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), Number(seconds) * 1000));
const outcome = await Promise.race([heard.then(() => 'heard'), timeout]);
console.log(outcome === 'heard' ? 'heard tools/list_changed' : 'no tools/list_changed within ' + seconds + ' s');
await client.close().catch(() => {});
process.exit(outcome === 'heard' ? 0 : 1);
