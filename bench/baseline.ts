/**
 * The bench's baseline: what this machine can do for a Messenger webhook with nothing but
 * the work that cannot be avoided. Plain `node:http`; `POST /webhooks/messenger` checks
 * `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with `META_APP_SECRET`), parses the
 * JSON, sends ONE reply per text message to `${GRAPH_API_URL}/me/messages` with an undici
 * `Pool` (keep-alive), and answers 200 once the reply is sent. Nothing is stored: it is the
 * practical limit orderly's ratio is taken against (performance.md, first row).
 *
 * Run it as `node --import tsx bench/baseline.ts` with PORT, HOST, META_APP_SECRET,
 * MESSENGER_PAGE_TOKEN and GRAPH_API_URL; it prints `{"msg":"listening","url":…}`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { isMain } from './children.js';

/** What the baseline needs to know. */
export interface BaselineOptions {
  readonly appSecret: string;
  readonly pageToken: string;
  /** The Graph API base with its version, e.g. `http://127.0.0.1:4000/v21.0`. */
  readonly graphApiUrl: string;
  readonly host?: string;
  readonly port?: number;
  /** Keep-alive connections to the Graph API; 32 by default, as orderly's Graph client. */
  readonly connections?: number;
}

interface Messaging {
  sender?: { id?: string };
  message?: { text?: string; is_echo?: boolean };
}

/**
 * Starts the baseline server.
 * @example
 * const baseline = await startBaseline({ appSecret, pageToken, graphApiUrl: `${fake}/v21.0` });
 */
export async function startBaseline(options: BaselineOptions): Promise<{ url: string; close(): Promise<void> }> {
  const graph = new URL(options.graphApiUrl);
  const pool = new Pool(graph.origin, { connections: options.connections ?? 32, pipelining: 1 });
  const sendPath = `${graph.pathname.replace(/\/+$/, '')}/me/messages?access_token=${encodeURIComponent(options.pageToken)}`;
  const headers = { 'content-type': 'application/json' };

  const reply = async (psid: string): Promise<void> => {
    const body = JSON.stringify({ recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'What would you like to do?' } });
    const response = await pool.request({ method: 'POST', path: sendPath, headers, body });
    await response.body.text();
    if (response.statusCode >= 300) throw new Error(`the Send API answered ${response.statusCode}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    if (req.method !== 'POST' || req.url !== '/webhooks/messenger') return end(res, req.url === '/healthz' ? 200 : 404, 'ok');
    const header = req.headers['x-hub-signature-256'];
    const expected = createHmac('sha256', options.appSecret).update(raw).digest();
    const given = typeof header === 'string' && header.startsWith('sha256=') ? Buffer.from(header.slice(7), 'hex') : undefined;
    if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) return end(res, 401, 'bad signature');
    let body: { entry?: { messaging?: Messaging[] }[] };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return end(res, 400, 'malformed JSON');
    }
    const sends: Promise<void>[] = [];
    for (const entry of body.entry ?? []) {
      for (const event of entry.messaging ?? []) {
        const psid = event.sender?.id;
        if (psid && event.message?.text && !event.message.is_echo) sends.push(reply(psid));
      }
    }
    try {
      await Promise.all(sends);
    } catch {
      return end(res, 500, 'send failed');
    }
    end(res, 200, 'EVENT_RECEIVED');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await pool.close();
    },
  };
}

function end(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

if (isMain(import.meta.url)) {
  const env = process.env;
  const { url } = await startBaseline({
    appSecret: env['META_APP_SECRET'] ?? '',
    pageToken: env['MESSENGER_PAGE_TOKEN'] ?? '',
    graphApiUrl: env['GRAPH_API_URL'] ?? 'http://127.0.0.1:1/v21.0',
    host: env['HOST'] ?? '127.0.0.1',
    port: Number(env['PORT'] ?? '0'),
  });
  console.log(JSON.stringify({ msg: 'listening', url }));
  process.on('SIGTERM', () => process.exit(0));
}
