/**
 * orderly: a conversation engine for shops that sell through chat.
 *
 * The root entry holds the core (events, effects, the engine), the memory store, the web
 * channel and the commerce model. Heavy parts and the shop's flows have subpaths:
 * `orderly/flows`, `orderly/sqlite`, `orderly/server`, `orderly/testing`,
 * `orderly/telegram`, `orderly/messenger`, `orderly/whatsapp`.
 */
export * from './core/index.js';
export { createMemoryStore } from './stores/memory.js';
export { createWebChannel, newWebUserId, type WebChannel, type WebChannelOptions } from './channels/web/index.js';
export * from './commerce/index.js';
