import type { WebhookChannel } from '../../core/channel.js';
import { createGraphClient } from '../graph/client.js';
import { createSignatureVerifier } from '../graph/signature.js';
import { verifySubscription } from '../graph/subscription.js';
import type { TemplateConfig } from '../graph/window.js';
import type { ChannelDeps, ChannelPlugin } from '../plugin.js';
import { parseMessengerWebhook } from './parse.js';
import { createMessengerChannel } from './send.js';

export { parseMessengerWebhook } from './parse.js';
export { messengerLimits, renderMessenger, type MessengerRequest } from './render.js';
export { createMessengerChannel } from './send.js';

/** Messenger's settings, as plain values (the server reads them from the environment). */
export interface MessengerConfig {
  /** Meta's App Secret: the `X-Hub-Signature-256` key. Without it every POST is refused. */
  readonly appSecret?: string;
  /** The answer to the subscription handshake; without it the handshake is refused. */
  readonly verifyToken?: string;
  /** The Graph API base with its version, e.g. `https://graph.facebook.com/v21.0`. */
  readonly graphApiUrl: string;
  /** The Page access token for the Send API. */
  readonly pageToken: string;
  /** Utility templates for receipts and shipping updates after the 24-hour window. */
  readonly templates?: TemplateConfig;
  /** Graph API answer timeout, ms (15 s by default). */
  readonly timeoutMs?: number;
}

/**
 * Facebook Messenger: the webhook the server mounts at `/webhooks/messenger` (handshake,
 * signature over the raw bytes, parse) and the Send API channel.
 * @example
 * const messenger = createMessengerPlugin(
 *   { appSecret, verifyToken, graphApiUrl: 'https://graph.facebook.com/v21.0', pageToken },
 *   { store, logger },
 * );
 * createEngine({ store, flows, services, channels: [messenger.channel] });
 */
export function createMessengerPlugin(config: MessengerConfig, deps: ChannelDeps): ChannelPlugin {
  const graph = createGraphClient({
    baseUrl: config.graphApiUrl,
    token: config.pageToken,
    auth: 'query',
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
  });
  const verify = createSignatureVerifier(config.appSecret);
  const webhook: WebhookChannel = {
    name: 'messenger',
    ack: 'EVENT_RECEIVED',
    verifyChallenge: (query) => verifySubscription(query, config.verifyToken),
    verify,
    parse(body, now) {
      const parsed = parseMessengerWebhook(body, now);
      if (parsed.ignored > 0) deps.ignored?.('messenger', parsed.ignored);
      return parsed;
    },
  };
  return {
    channel: createMessengerChannel(graph, config.templates),
    webhook,
    close: () => graph.close(),
  };
}
