import type { Channel } from '../../core/channel.js';
import { DeliveryError } from '../../core/errors.js';
import type { GraphClient } from '../graph/client.js';
import { sendParts, type PartProgress } from '../graph/parts.js';
import { planDelivery, type TemplateConfig } from '../graph/window.js';
import { renderWhatsApp, type WhatsAppRenderOptions, type WhatsAppRequest } from './render.js';

/** The sending number, the catalog, the templates for after the window, and a clock for tests. */
export interface WhatsAppChannelOptions extends WhatsAppRenderOptions {
  readonly phoneNumberId: string;
  readonly templates?: TemplateConfig;
  readonly clock?: () => number;
}

/**
 * WhatsApp's outbound half: outside the 24-hour customer service window only a template
 * may go; inside, the message is rendered and each part sent through the Cloud API
 * (`POST /{phone-number-id}/messages`), answering the last part's `messages[0].id`.
 * @example
 * const channel = createWhatsAppChannel(createGraphClient({ baseUrl, token, auth: 'bearer' }), { phoneNumberId });
 * await channel.send(address, { kind: 'text', text: 'Hi' }, { outboxId: 1, attempt: 0, lastInboundAt });
 */
export function createWhatsAppChannel(graph: GraphClient, options: WhatsAppChannelOptions): Channel {
  const path = `/${encodeURIComponent(options.phoneNumberId)}/messages`;
  const clock = options.clock ?? Date.now;
  const progress: PartProgress = new Map();
  return {
    name: 'whatsapp',
    async send(to, message, context) {
      const plan = planDelivery('whatsapp', message, context, clock(), options.templates);
      let parts: WhatsAppRequest[];
      try {
        parts = renderWhatsApp(message, to.user, plan, options);
      } catch (error) {
        throw new DeliveryError(`whatsapp: cannot render a ${message.kind} message`, { retryable: false }, { cause: error });
      }
      return sendParts(parts, context, progress, async (part) => messageId(await graph.post(path, part, context.attempt)));
    },
  };
}

function messageId(answer: Readonly<Record<string, unknown>>): string | undefined {
  const messages = answer['messages'];
  if (!Array.isArray(messages)) return undefined;
  const first: unknown = messages[0];
  const id = typeof first === 'object' && first !== null ? (first as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}
