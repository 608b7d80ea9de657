// A 2025-11-25 agent (TypeScript SDK 1.32) that answers elicitation and sampling: node elicit-client.mjs URL TOOL ARGS_JSON ANSWER
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [url, tool, args, answer] = process.argv.slice(2);
const client = new Client({ name: 'era-client', version: '1.0.0' }, { capabilities: { elicitation: {}, sampling: {} } });
let asked = 0;
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  asked++;
  console.log('elicited: ' + request.params.message);
  return { action: 'accept', content: { name: answer } };
});
client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
  asked++;
  console.log('sampled: ' + request.params.messages.map(m => m.content.text ?? '').join(' '));
  return { role: 'assistant', content: { type: 'text', text: answer }, model: 'era-test-model' };
});
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: 'Bearer ' + process.env.MCP_BEARER } } });
await client.connect(transport);
console.log('protocol: ' + transport.protocolVersion);
const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
console.log('result: ' + JSON.stringify(result));
console.log('asked: ' + asked);
await transport.terminateSession();
await client.close();
