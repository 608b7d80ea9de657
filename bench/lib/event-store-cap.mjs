// Loaded into the benches' server-everything (node --import): caps each session's event store, so that every target
// meets the same upstream however many calls the targets before it made. See event-store-cap-hooks.mjs for why.
import { register } from 'node:module';

register('./event-store-cap-hooks.mjs', import.meta.url);
