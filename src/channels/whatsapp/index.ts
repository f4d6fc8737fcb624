import type { WebhookChannel } from '../../core/channel.js';
import { createGraphClient } from '../graph/client.js';
import { createSignatureVerifier } from '../graph/signature.js';
import { verifySubscription } from '../graph/subscription.js';
import type { TemplateConfig } from '../graph/window.js';
import type { ChannelDeps, ChannelPlugin } from '../plugin.js';
import { parseWhatsAppWebhook, type WhatsAppParseOptions } from './parse.js';
import { createWhatsAppChannel } from './send.js';

export { parseWhatsAppWebhook, type WhatsAppParseOptions } from './parse.js';
export { renderWhatsApp, whatsappLimits, type WhatsAppRenderOptions, type WhatsAppRequest } from './render.js';
export { createWhatsAppChannel, type WhatsAppChannelOptions } from './send.js';

/** WhatsApp's settings, as plain values (the server reads them from the environment). */
export interface WhatsAppConfig {
  /** Meta's App Secret: the `X-Hub-Signature-256` key. Without it every POST is refused. */
  readonly appSecret?: string;
  /** The answer to the subscription handshake; without it the handshake is refused. */
  readonly verifyToken?: string;
  /** The Graph API base with its version, e.g. `https://graph.facebook.com/v21.0`. */
  readonly graphApiUrl: string;
  /** A system-user or business token, sent as `Authorization: Bearer`. */
  readonly token: string;
  /** The business phone number messages go from; also the account of On-Premises webhooks. */
  readonly phoneNumberId: string;
  /** The catalog for product and product-list messages; without it products go as cards. */
  readonly catalogId?: string;
  /** Approved templates for receipts and shipping updates after the 24-hour window. */
  readonly templates?: TemplateConfig;
  /** Graph API answer timeout, ms (15 s by default). */
  readonly timeoutMs?: number;
}

/**
 * WhatsApp (Cloud API, and the On-Premises webhook shape): the webhook the server mounts
 * at `/webhooks/whatsapp` (handshake, signature over the raw bytes, parse) and the
 * Cloud API channel.
 * @example
 * const whatsapp = createWhatsAppPlugin(
 *   { appSecret, verifyToken, graphApiUrl: 'https://graph.facebook.com/v21.0', token, phoneNumberId },
 *   { store, logger },
 * );
 * createEngine({ store, flows, services, channels: [whatsapp.channel] });
 */
export function createWhatsAppPlugin(config: WhatsAppConfig, deps: ChannelDeps): ChannelPlugin {
  const graph = createGraphClient({
    baseUrl: config.graphApiUrl,
    token: config.token,
    auth: 'bearer',
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
  });
  const parseOptions: WhatsAppParseOptions = {
    onPremAccount: config.phoneNumberId,
    platformError: (code, title) => deps.logger.warn({ channel: 'whatsapp', code, title }, 'the platform reported an error'),
  };
  const webhook: WebhookChannel = {
    name: 'whatsapp',
    ack: 'OK',
    verifyChallenge: (query) => verifySubscription(query, config.verifyToken),
    verify: createSignatureVerifier(config.appSecret),
    parse(body, now) {
      const parsed = parseWhatsAppWebhook(body, now, parseOptions);
      if (parsed.ignored > 0) deps.ignored?.('whatsapp', parsed.ignored);
      return parsed;
    },
  };
  return {
    channel: createWhatsAppChannel(graph, {
      phoneNumberId: config.phoneNumberId,
      ...(config.catalogId ? { catalogId: config.catalogId } : {}),
      ...(config.templates ? { templates: config.templates } : {}),
    }),
    webhook,
    close: () => graph.close(),
  };
}
