// How the benches start server-everything over streamable HTTP: bound to loopback (the run's preload) and with each
// session's event store capped (event-store-cap-hooks.mjs says why).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const capHook = path.join(path.dirname(fileURLToPath(import.meta.url)), 'event-store-cap.mjs');

/** node's arguments for server-everything's streamable HTTP server. */
export const streamableHttpArgs = (loopbackPreload, seEntry) => ['--require', loopbackPreload, '--import', capHook, seEntry, 'streamableHttp'];
