// A 2025-11-25 agent (TypeScript SDK 1.32) that calls a tool until a limit refuses it: node limit-client.mjs URL TOOL CALLS
// Prints each call's outcome, then whether the session still answers (a 429 must surface as an error, not hang).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, tool, calls] = process.argv.slice(2);
const client = new Client({ name: 'limit-client', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: 'Bearer ' + process.env.MCP_BEARER } } });
await client.connect(transport);
for (let i = 0; i < Number(calls); i++) {
  try {
    const result = await client.callTool({ name: tool, arguments: { message: 'ts-' + i } }, undefined, { timeout: 30000 });
    console.log('call ' + i + ': ok ' + JSON.stringify(result.content));
  } catch (e) {
    console.log('call ' + i + ': error ' + (e.code ?? '') + ' ' + e.message);
  }
}
const tools = await client.listTools();
console.log('tools: ' + tools.tools.length);
await transport.terminateSession();
await client.close();
