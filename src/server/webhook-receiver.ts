import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookChannel } from '../core/channel.js';
import type { Engine } from '../core/engine-types.js';
import { EngineError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { describeError } from './errors.js';
import { requestIdOf } from './request-id.js';

/**
 * Receives one webhook POST: the signature over the raw bytes first (401, nothing read or
 * stored when it fails), then one JSON parse, the channel's parse, and the events stored.
 * Answers the channel's `ack` only once they are stored. Shared by the express route and
 * the server's fast path, so both behave alike.
 * @example await receiveWebhook(messenger.webhook, engine, { rawBody, headers }, Date.now())
 */
export async function receiveWebhook(
  webhook: WebhookChannel,
  engine: Pick<Engine, 'ingest'>,
  request: { rawBody: Uint8Array; headers: IncomingMessage['headers'] },
  now: number,
): Promise<string> {
  if (!webhook.verify(request)) throw new EngineError('UNAUTHORIZED', 'the webhook signature is missing or wrong');
  const { events } = webhook.parse(parseJson(request.rawBody), now);
  // One odd entry must not refuse the rest: the platform would redeliver the batch forever.
  if (events.length > 0) await engine.ingest(events, { invalid: 'skip' });
  return webhook.ack;
}

export interface WebhookFastPathOptions {
  readonly webhooks: readonly WebhookChannel[];
  readonly engine: Pick<Engine, 'ingest'>;
  readonly logger: Logger;
  /** Bytes; a larger body answers 413 without being read. */
  readonly bodyLimit: number;
  readonly clock?: () => number;
}

/**
 * The webhook POSTs answered before express sees them: the hot path of the server (every
 * customer message), where express's router and middleware cost as much as storing the
 * event. Answers whether it took the request; GET handshakes and everything else go on to
 * express.
 * @example
 * const fast = createWebhookFastPath({ webhooks, engine, logger, bodyLimit: 256 * 1024 });
 * createServer((req, res) => fast(req, res) || app(req, res));
 */
export function createWebhookFastPath(options: WebhookFastPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const byPath = new Map(options.webhooks.map((webhook) => [`/webhooks/${webhook.name}`, webhook]));
  const clock = options.clock ?? Date.now;
  const { engine, logger, bodyLimit } = options;

  const answer = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
    const { status, message, fault } = describeError(error);
    // A refused webhook is worth a line: a wrong app secret would otherwise go unnoticed.
    if (fault) logger.error({ err: error, path: req.url, status }, 'webhook failed');
    else logger.info({ path: req.url, status, message }, 'webhook refused');
    answer(res, status, 'application/json; charset=utf-8', JSON.stringify({ status: fault ? 'error' : 'fail', message }));
  };

  return (req, res) => {
    if (req.method !== 'POST' || req.url === undefined) return false;
    const query = req.url.indexOf('?');
    const webhook = byPath.get(query < 0 ? req.url : req.url.slice(0, query));
    if (!webhook) return false;
    res.setHeader('x-request-id', requestIdOf(req.headers['x-request-id']));
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > bodyLimit) {
      fail(req, res, new EngineError('PAYLOAD_TOO_LARGE', `the body is larger than ${bodyLimit} bytes`));
      req.resume();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= bodyLimit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > bodyLimit) return fail(req, res, new EngineError('PAYLOAD_TOO_LARGE', `the body is larger than ${bodyLimit} bytes`));
      const rawBody = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      receiveWebhook(webhook, engine, { rawBody, headers: req.headers }, clock()).then(
        (ack) => answer(res, 200, 'text/plain; charset=utf-8', ack),
        (error: unknown) => fail(req, res, error),
      );
    });
    req.on('error', () => res.destroy());
    return true;
  };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new EngineError('BAD_REQUEST', 'malformed JSON');
  }
}
