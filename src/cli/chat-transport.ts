import { createShopServices, shopFlows } from '../../flows/index.js';
import { createWebChannel, newWebUserId } from '../channels/web/index.js';
import { loadCatalogFile } from '../commerce/index.js';
import { createEngine } from '../core/engine.js';
import type { OutboundMessage } from '../core/outbound.js';
import { createMemoryStore } from '../stores/memory.js';

/** What a customer sends: a typed text, or a chosen button's payload. */
export type ChatInput = { readonly text: string } | { readonly payload: string; readonly title?: string };

/** Messages of the customer's log, and the cursor to poll after. */
export interface ChatBatch {
  readonly messages: readonly { readonly id: number; readonly at: number; readonly message: OutboundMessage }[];
  readonly cursor: number;
}

/** How the terminal chat reaches a shop: over HTTP, or an engine in this process. */
export interface ChatTransport {
  /** Where the chat goes, for the banner. */
  readonly label: string;
  newUser(): Promise<string>;
  send(user: string, input: ChatInput, clientId: string): Promise<void>;
  /** Messages after `after`, waiting up to `waitSeconds` for the first one. */
  poll(user: string, after: number, waitSeconds: number, signal: AbortSignal): Promise<ChatBatch>;
  /** Resolves when the shop has nothing left to answer (in-process only; HTTP answers at once). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The web channel's HTTP routes of a running server.
 * @example const transport = httpTransport('http://localhost:3000');
 */
export function httpTransport(baseUrl: string): ChatTransport {
  const base = baseUrl.replace(/\/+$/, '');
  const call = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${base}${path}`, init).catch((error: unknown) => {
      if (init?.signal?.aborted) throw error;
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new Error(`cannot reach the shop at ${base} (${reason}); is the server running (npm start)?`);
    });
    const body = (await response.json().catch(() => ({}))) as T & { message?: string };
    if (!response.ok) throw new Error(`${response.status}: ${body.message ?? response.statusText}`);
    return body;
  };
  const post = (path: string, body: unknown) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    label: base,
    async newUser() {
      return (await call<{ user: string }>('/web/v1/sessions', post('/web/v1/sessions', {}))).user;
    },
    async send(user, input, clientId) {
      await call('/web/v1/messages', post('/web/v1/messages', { user, id: clientId, ...input }));
    },
    poll(user, after, waitSeconds, signal) {
      const query = new URLSearchParams({ user, after: String(after), wait: String(waitSeconds) });
      return call<ChatBatch>(`/web/v1/messages?${query.toString()}`, { signal });
    },
    settled: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/**
 * An engine in this process on a memory store, with the shop's flows and the catalog file.
 * @example const transport = await inProcessTransport({ catalogFile: 'data/demo-catalog.json', account: 'web' });
 */
export async function inProcessTransport(options: { catalogFile: string; account: string }): Promise<ChatTransport> {
  const catalog = await loadCatalogFile(options.catalogFile);
  const store = createMemoryStore();
  const web = createWebChannel({ store, account: options.account });
  const engine = createEngine({ store, flows: shopFlows, services: createShopServices(catalog), channels: [web.channel] });
  await engine.start();
  return {
    label: 'an in-process shop (memory store)',
    newUser: () => Promise.resolve(newWebUserId()),
    async send(user, input, clientId) {
      await engine.ingest([web.toEvent({ user, id: clientId, ...input }, Date.now())]);
    },
    async poll(user, after, waitSeconds, signal) {
      const rows = await web.waitForMessages(user, after, waitSeconds * 1_000, signal);
      const messages = rows.flatMap((row) =>
        row.effect.type === 'reply' ? [{ id: row.id, at: row.createdAt, message: row.effect.message }] : [],
      );
      return { messages, cursor: rows.at(-1)?.id ?? after };
    },
    settled: () => engine.idle(),
    async close() {
      web.close();
      await engine.stop({ timeoutMs: 2_000 });
      await store.close();
    },
  };
}
