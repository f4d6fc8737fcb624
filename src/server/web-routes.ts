import express, { type Request, type Router } from 'express';
import { newWebUserId, parseOrThrow, webPollSchema, type WebChannel } from '../channels/web/index.js';
import type { Engine } from '../core/engine-types.js';
import { EngineError } from '../core/errors.js';
import type { OutboundMessage } from '../core/outbound.js';

/** One message of the web message log, as `GET /web/v1/messages` answers it. */
export interface WebLogEntry {
  /** The outbox id: pass the last one as `after` to get only newer messages. */
  readonly id: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly message: OutboundMessage;
}

/** What the web routes serve: the engine events go into, and the web channel. */
export interface WebRoutesOptions {
  readonly engine: Pick<Engine, 'ingest'>;
  readonly web: WebChannel;
  /** Milliseconds since the epoch; tests drive it. */
  readonly clock?: () => number;
}

function bodyOf(req: Request): unknown {
  if (req.body === undefined) {
    throw new EngineError('BAD_REQUEST', 'the body must be JSON (Content-Type: application/json)');
  }
  return req.body;
}

/**
 * The web channel's HTTP routes:
 * - `POST /web/v1/sessions` → 201 `{user}`: a new customer id;
 * - `POST /web/v1/messages` `{user, text}` or `{user, payload, title?}` (optional `id`, the
 *   client's message id, for retries) → 202 `{accepted, duplicate}` once stored;
 * - `GET /web/v1/messages?user=&after=&wait=` → 200 `{messages: [{id, at, message}], cursor}`,
 *   waiting up to `wait` seconds (at most 25) for a first new message.
 * @example
 * app.use(createWebRoutes({ engine, web }));
 */
export function createWebRoutes(options: WebRoutesOptions): Router {
  const { engine, web } = options;
  const clock = options.clock ?? Date.now;
  const router = express.Router();

  router.post('/web/v1/sessions', (_req, res) => {
    res.status(201).json({ user: newWebUserId() });
  });

  router.post('/web/v1/messages', async (req, res) => {
    const event = web.toEvent(bodyOf(req), clock());
    const result = await engine.ingest([event]);
    res.status(202).json({ accepted: result.accepted > 0, duplicate: result.duplicates > 0 });
  });

  router.get('/web/v1/messages', async (req, res) => {
    const query = parseOrThrow(webPollSchema, req.query);
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const rows = await web.waitForMessages(query.user, query.after, query.wait * 1_000, gone.signal);
    if (gone.signal.aborted) return;
    const messages: WebLogEntry[] = [];
    for (const row of rows) {
      if (row.effect.type === 'reply') messages.push({ id: row.id, at: row.createdAt, message: row.effect.message });
    }
    res.set('cache-control', 'no-store');
    res.json({ messages, cursor: rows.at(-1)?.id ?? query.after });
  });

  return router;
}
