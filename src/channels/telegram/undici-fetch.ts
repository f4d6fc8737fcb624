import { Pool, request, type Dispatcher } from 'undici';

/** The part of a fetch answer grammY reads: it parses every answer as JSON, whatever its status. */
interface JsonAnswer {
  readonly status: number;
  readonly statusText: string;
  json(): Promise<unknown>;
}

/**
 * A `fetch` for grammY's client over an undici `Pool` with keep-alive to the Bot API origin.
 * Measured against the fake on loopback (sendMessage, one at a time), a call cost about
 * 130 µs of CPU against 180 µs with grammY's default (node-fetch) and 400 µs with undici's
 * or Node's own `fetch`; grammY only needs `json()` of the answer.
 * @example
 * new Bot(token, { client: { apiRoot, fetch: createUndiciFetch(apiRoot) } });
 */
export function createUndiciFetch(apiRoot: string, connections = 32): typeof fetch {
  const pool = new Pool(new URL(apiRoot).origin, { connections, keepAliveTimeout: 30_000 });
  const call = async (url: string | URL, init: { method?: string; headers?: Record<string, string>; body?: unknown; signal?: unknown }): Promise<JsonAnswer> => {
    const answer = await request(url, {
      dispatcher: pool,
      method: init.method === 'GET' ? 'GET' : 'POST',
      headers: init.headers,
      body: init.body as Dispatcher.DispatchOptions['body'],
      signal: init.signal as AbortSignal | undefined,
    });
    return { status: answer.statusCode, statusText: '', json: () => answer.body.json() };
  };
  // grammY types its option as the WHATWG fetch; it calls it with (url string, init) and
  // reads only `json()`, which is all `call` offers.
  return call as unknown as typeof fetch;
}
