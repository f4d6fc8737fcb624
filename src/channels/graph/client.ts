import { createHttpTransport, type HttpAnswer, type TransportKind } from '../http-transport.js';
import { graphError, graphNetworkError } from './errors.js';

/** Where the Graph API is and how the client authenticates. */
export interface GraphClientOptions {
  /** The Graph API base with its version, e.g. `https://graph.facebook.com/v21.0`. */
  readonly baseUrl: string;
  readonly token: string;
  /** Where the token goes: the `access_token` query parameter (Send API) or a Bearer header. */
  readonly auth: 'query' | 'bearer';
  /** Time to wait for the answer's headers, then its body; 15 s by default. */
  readonly timeoutMs?: number;
  /** Keep-alive connections to the Graph API origin at most; 32 by default. */
  readonly connections?: number;
  /** Where the sockets live: a worker thread shared by the process's clients (default), or the event loop. */
  readonly transport?: TransportKind;
}

/** A JSON object the Graph API answered with. */
export type GraphAnswer = Readonly<Record<string, unknown>>;

/** A keep-alive JSON client of one Graph API origin. */
export interface GraphClient {
  /**
   * POSTs `body` as JSON to `path` under the base URL. Resolves with the answer's JSON;
   * rejects with a classified `DeliveryError` (`attempt`, 0 on the first try, scales the
   * platform's own backoff advice).
   */
  post(path: string, body: unknown, attempt?: number): Promise<GraphAnswer>;
  close(): Promise<void>;
}

/**
 * A Graph API client with keep-alive to the base URL's origin, over undici (Node's global
 * fetch costs about five times as much per call, see performance.md) on a thread of its own
 * by default (see `createHttpTransport`). The token never appears in an error message or a
 * log line.
 * @example
 * const graph = createGraphClient({ baseUrl: 'https://graph.facebook.com/v21.0', token, auth: 'bearer' });
 * const answer = await graph.post('/106540352242922/messages', { messaging_product: 'whatsapp', … });
 */
export function createGraphClient(options: GraphClientOptions): GraphClient {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const http = createHttpTransport(base.origin, {
    connections: options.connections ?? 32,
    ...(options.transport ? { kind: options.transport } : {}),
  });
  const query = options.auth === 'query' ? `?access_token=${encodeURIComponent(options.token)}` : '';
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.auth === 'bearer') headers['authorization'] = `Bearer ${options.token}`;

  return {
    async post(path, body, attempt = 0) {
      let answer: HttpAnswer;
      try {
        answer = await http.request({ method: 'POST', path: `${basePath}${path}${query}`, headers, body: JSON.stringify(body), timeoutMs });
      } catch (error) {
        throw graphNetworkError(error, options.token);
      }
      const json = parseJson(answer.text);
      if (answer.status >= 200 && answer.status < 300) return json ?? {};
      throw graphError(answer.status, json, answer.headers, attempt);
    },
    close: () => http.close(),
  };
}

function parseJson(text: string): GraphAnswer | undefined {
  if (text.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as GraphAnswer) : undefined;
  } catch {
    // A proxy's HTML error page: the status alone classifies it.
    return undefined;
  }
}
