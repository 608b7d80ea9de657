// Module hook for the benches' server-everything over streamable HTTP (registered by event-store-cap.mjs).
//
// Its InMemoryEventStore keeps every event a session ever sent (for resumability: a client that lost a stream asks
// for what followed its last event id), and nothing ends a session the client does not delete. The bench's clients
// open and delete their own sessions, but a gateway (ours, mcp-hub, civic) carries every agent's calls on one
// long-lived upstream session, so the store grew by every call the run made through them: about 7.5 KB of resident
// memory per call, 1.7 GB after 240,000 calls, and the server slowed as its heap grew (32 fresh sessions: 2,489 calls/s
// at 0.64 GB, 1,533 at 1.56 GB; 0.45 against 0.72 ms of its CPU per call). A target measured late in a level then met
// a slower upstream than one measured early. Keeping each session's last 1,000 events leaves replay of a recent
// stream working and the heap flat; no bench client replays.
const CAP = 1000;
const FILE = '/@modelcontextprotocol/server-everything/dist/transports/streamableHttp.js';
const STORE = 'this.events.set(eventId, { streamId, message });';

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!url.endsWith(FILE)) return loaded;
  const source = String(loaded.source);
  if (!source.includes(STORE)) {
    // Another server-everything than the pinned one: stop rather than measure an upstream that grows.
    throw new Error(`event-store-cap: '${STORE}' not found in ${url}; the bench pins server-everything 2026.8.31`);
  }

  return { ...loaded, source: source.replace(STORE, `${STORE} if (this.events.size > ${CAP}) this.events.delete(this.events.keys().next().value);`) };
}
