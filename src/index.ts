/**
 * orderly: a conversation engine for shops that sell through chat.
 *
 * The root entry holds the core (events, effects, the engine), the memory store, the web
 * channel, the commerce model and the shop's flows. Heavy parts have subpaths:
 * `orderly/sqlite`, `orderly/server`, `orderly/testing`.
 */
export * from './core/index.js';
export { createMemoryStore } from './stores/memory.js';
export * from './commerce/index.js';
