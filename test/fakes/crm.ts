import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake of a merchant's CRM on loopback: it answers every request 200 `{"ok":true}`,
 * records it exactly as it arrived (method, path, raw query string, headers, raw body), and
 * can be told to fail a number of times, or to answer slowly.
 */

export interface CrmRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The query string exactly as sent, without the `?`. */
  readonly rawQuery: string;
  /** The query parsed into nested objects the way PHP reads brackets (`goods[0][id]`). */
  readonly query: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
  /** The body bytes as text, exactly as sent. */
  readonly rawBody: string;
  /** The JSON body, parsed (undefined when it was not JSON). */
  readonly body: unknown;
  readonly at: number;
  /** What the fake answered (0 when it never answered: the client gave up first). */
  status: number;
}

export interface CrmFailure {
  /** The status to answer; 500 by default. */
  readonly status?: number;
  /** How many requests it applies to; 1 by default. */
  readonly times?: number;
  /** Answer this late (with `status`, or normally when no status is given). */
  readonly delayMs?: number;
  readonly retryAfterSeconds?: number;
  /** The answer's body text instead of the default JSON. */
  readonly body?: string;
}

export interface FakeCrm {
  /** Where to point `CRM_URL`, e.g. `http://127.0.0.1:5555/orders`. */
  readonly url: string;
  readonly requests: readonly CrmRequest[];
  fail(failure: CrmFailure): void;
  /** Answers normally, `delayMs` late, for the next `times` requests. */
  slow(delayMs: number, times?: number): void;
  reset(): void;
  /** Resolves with the first `count` requests, waiting up to `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<CrmRequest[]>;
  close(): Promise<void>;
}

/**
 * Starts the fake CRM on 127.0.0.1, port 0.
 * @example
 * const crm = await startFakeCrm();
 * crm.fail({ status: 500, times: 3 });
 * // CRM_URL=crm.url
 */
export async function startFakeCrm(path = '/orders'): Promise<FakeCrm> {
  const requests: CrmRequest[] = [];
  let rules: { failure: CrmFailure; left: number }[] = [];
  let listeners: (() => void)[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawBody = await readBody(req);
    const [pathname = '/', rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const recorded: CrmRequest = {
      method: req.method ?? 'GET',
      path: pathname,
      rawQuery,
      query: parseBracketed(rawQuery),
      headers: req.headers,
      rawBody,
      body,
      at: Date.now(),
      status: 0,
    };
    requests.push(recorded);
    const rule = rules.find((entry) => entry.left > 0);
    if (rule) rule.left--;
    if (rule?.failure.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.failure.delayMs));
    const status = rule?.failure.status ?? 200;
    recorded.status = res.destroyed ? 0 : status;
    if (!res.destroyed) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (rule?.failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(rule.failure.retryAfterSeconds);
      res.writeHead(status, headers).end(rule?.failure.body ?? JSON.stringify(status < 300 ? { ok: true } : { error: 'the fake CRM was told to fail' }));
    }
    const waiting = listeners;
    listeners = [];
    for (const wake of waiting) wake();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    get requests() {
      return requests;
    },
    fail(failure) {
      rules.push({ failure, left: failure.times ?? 1 });
    },
    slow(delayMs, times = 1) {
      rules.push({ failure: { delayMs }, left: times });
    },
    reset() {
      requests.length = 0;
      rules = [];
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (requests.length >= count) return requests.slice(0, count);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`the fake CRM saw ${requests.length} of ${count} expected requests`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          listeners.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A bracketed query string read back into nested objects and arrays, as PHP's `parse_str`
 * does (`goods[0][id]=eth` → `{ goods: [{ id: 'eth' }] }`). Values stay strings.
 */
export function parseBracketed(query: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const pair of query ? query.split('&') : []) {
    const [rawKey = '', rawValue = ''] = pair.split(/=(.*)/s);
    const key = decodeURIComponent(rawKey);
    const value = decodeURIComponent(rawValue);
    const [head = '', ...rest] = key.split('[').map((part, index) => (index === 0 ? part : part.replace(/\]$/, '')));
    let node: Record<string, unknown> | unknown[] = root;
    const names: string[] = [head, ...rest];
    names.forEach((name, index) => {
      const last = index === names.length - 1;
      const slot = node as Record<string, unknown>;
      if (last) {
        slot[name] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(names[index + 1] ?? '');
      slot[name] ??= nextIsIndex ? [] : {};
      node = slot[name] as Record<string, unknown>;
    });
  }
  return root;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
