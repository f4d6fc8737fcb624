/**
 * A fast fake of the platforms' send endpoints for `npm run bench`, run in its own process:
 * `node --import tsx bench/fake-platform.ts` prints `{"msg":"listening","url":…}` and serves
 *
 * - the Graph API Send API, `POST /<version>/me/messages` (and `/<page id>/messages`),
 *   answered `{recipient_id, message_id}`;
 * - the Telegram Bot API, `POST /bot<token>/<method>`: `getMe`, `sendMessage`,
 *   `answerCallbackQuery` answered `{ok: true, result}` (any other method `{ok: true, result: true}`);
 * - a control endpoint under `/_bench/`: `GET stats` (counts), `GET arrivals` (per recipient,
 *   the arrival times of its replies), `POST reset`.
 *
 * Unlike the fakes in test/fakes/, it checks nothing and keeps only a timestamp per reply, so
 * that it costs the machine as little as possible. Times are `clockMs()`: the system's monotonic
 * clock, the same in every process of the machine, so the load generator can compare them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMain } from './children.js';
import { clockMs } from './clock.js';

/** What `GET /_bench/stats` answers. */
export interface FakeStats {
  readonly messenger: number;
  readonly telegram: number;
  /** Requests the fake did not recognize (answered 404). */
  readonly unknown: number;
}

/** What `GET /_bench/arrivals` answers: recipient id → arrival times (ms, `clockMs`), in order. */
export type Arrivals = Record<string, number[]>;

const botInfo = {
  id: 0,
  is_bot: true,
  first_name: 'Bench Shop',
  username: 'bench_shop_bot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
};

/**
 * Starts the fake on `host:port` (127.0.0.1 and a free port by default).
 * @example
 * const { url, close } = await startFakePlatform();
 * // GRAPH_API_URL=`${url}/v21.0`, TELEGRAM_API_ROOT=url
 */
export async function startFakePlatform(host = '127.0.0.1', port = 0): Promise<{ url: string; close(): Promise<void> }> {
  let arrivals = new Map<string, number[]>();
  let counts = { messenger: 0, telegram: 0, unknown: 0 };
  let messageId = 0;

  const arrived = (recipient: string, at: number) => {
    const list = arrivals.get(recipient);
    if (list) list.push(at);
    else arrivals.set(recipient, [at]);
  };

  const json = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string, at: number) => {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0] ?? '/';
    if (path.startsWith('/bot')) {
      const method = path.slice(path.lastIndexOf('/') + 1);
      if (method === 'sendMessage') {
        const chatId = recipientOf(raw, 'chat_id');
        counts.telegram++;
        arrived(chatId, at);
        const date = Math.floor(Date.now() / 1_000);
        return json(res, 200, `{"ok":true,"result":{"message_id":${++messageId},"date":${date},"chat":{"id":${Number(chatId) || 0},"type":"private"},"text":"ok"}}`);
      }
      if (method === 'getMe') {
        const id = Number(path.slice(4, path.indexOf(':')));
        return json(res, 200, JSON.stringify({ ok: true, result: { ...botInfo, id } }));
      }
      return json(res, 200, '{"ok":true,"result":true}');
    }
    if (path.endsWith('/messages') && req.method === 'POST') {
      const recipient = recipientOf(raw, 'recipient');
      counts.messenger++;
      arrived(recipient, at);
      return json(res, 200, `{"recipient_id":${JSON.stringify(recipient)},"message_id":"m_bench_${++messageId}"}`);
    }
    if (path === '/_bench/stats') return json(res, 200, JSON.stringify(counts satisfies FakeStats));
    if (path === '/_bench/arrivals') return json(res, 200, JSON.stringify(Object.fromEntries(arrivals) satisfies Arrivals));
    if (path === '/_bench/reset') {
      arrivals = new Map();
      counts = { messenger: 0, telegram: 0, unknown: 0 };
      return json(res, 200, '{"ok":true}');
    }
    counts.unknown++;
    return json(res, 404, '{"error":{"message":"unknown path","code":100}}');
  };

  const server = createServer((req, res) => {
    // The reply has reached the fake when its first bytes do: the time of the request.
    const at = clockMs();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString(), at));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The recipient of a send: Messenger's `recipient.id`, or Telegram's `chat_id`. */
function recipientOf(raw: string, field: 'recipient' | 'chat_id'): string {
  try {
    const body = JSON.parse(raw) as { recipient?: { id?: unknown }; chat_id?: unknown };
    const value = field === 'recipient' ? body.recipient?.id : body.chat_id;
    return value === undefined ? '?' : String(value);
  } catch {
    return '?';
  }
}

if (isMain(import.meta.url)) {
  const { url } = await startFakePlatform(process.env['HOST'] ?? '127.0.0.1', Number(process.env['PORT'] ?? '0'));
  console.log(JSON.stringify({ msg: 'listening', url }));
  process.on('SIGTERM', () => process.exit(0));
}
