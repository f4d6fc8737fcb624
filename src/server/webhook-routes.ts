import express, { type Router } from 'express';
import type { WebhookChannel } from '../core/channel.js';
import type { Engine } from '../core/engine-types.js';
import { receiveWebhook } from './webhook-receiver.js';

/** What the webhook routes serve: the channels' inbound halves, and the engine events go into. */
export interface WebhookRoutesOptions {
  readonly webhooks: readonly WebhookChannel[];
  readonly engine: Pick<Engine, 'ingest'>;
  /** Milliseconds since the epoch; tests drive it. */
  readonly clock?: () => number;
  /** The body limit (bytes, or a string such as `'256kb'`); larger bodies answer 413. */
  readonly bodyLimit?: number | string;
}

/**
 * `GET` and `POST /webhooks/<name>` for each webhook channel. GET answers the subscription
 * handshake (the challenge as plain text, else 403). POST checks the signature over the raw
 * bytes first (401 and nothing stored when it fails), then parses, stores the events, and
 * answers 200 with the channel's `ack` before any flow runs.
 * @example
 * const app = createApp({ engine, logger, metrics, routes: [createWebhookRoutes({ webhooks: [messenger.webhook], engine })] });
 */
export function createWebhookRoutes(options: WebhookRoutesOptions): Router {
  const { engine } = options;
  const clock = options.clock ?? Date.now;
  const router = express.Router();
  // The raw bytes, unparsed: the signature is checked before anything reads the JSON.
  const raw = express.raw({ type: () => true, limit: options.bodyLimit ?? '256kb' });
  for (const webhook of options.webhooks) {
    const path = `/webhooks/${webhook.name}`;
    router.get(path, (req, res) => {
      const challenge = webhook.verifyChallenge(req.query);
      res.status(challenge === null ? 403 : 200).type('text/plain').send(challenge ?? 'forbidden');
    });
    router.post(path, raw, async (req, res) => {
      const rawBody: Uint8Array = Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0);
      const ack = await receiveWebhook(webhook, engine, { rawBody, headers: req.headers }, clock());
      res.status(200).type('text/plain').send(ack);
    });
  }
  return router;
}
