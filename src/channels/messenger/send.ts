import type { Channel } from '../../core/channel.js';
import { DeliveryError } from '../../core/errors.js';
import type { GraphClient } from '../graph/client.js';
import { sendParts, type PartProgress } from '../graph/parts.js';
import { planDelivery, type TemplateConfig } from '../graph/window.js';
import { renderMessenger, type MessengerRequest } from './render.js';

/**
 * Messenger's outbound half: decides the messaging type under the 24-hour window, renders,
 * and sends each part through the Send API (`POST /me/messages`), answering the last
 * part's `message_id`.
 * @example
 * const channel = createMessengerChannel(createGraphClient({ baseUrl, token, auth: 'query' }));
 * await channel.send(address, { kind: 'text', text: 'Hi' }, { outboxId: 1, attempt: 0 });
 */
export function createMessengerChannel(graph: GraphClient, templates?: TemplateConfig, clock: () => number = Date.now): Channel {
  const progress: PartProgress = new Map();
  return {
    name: 'messenger',
    async send(to, message, context) {
      const plan = planDelivery('messenger', message, context, clock(), templates);
      let parts: MessengerRequest[];
      try {
        parts = renderMessenger(message, to.user, plan);
      } catch (error) {
        throw new DeliveryError(`messenger: cannot render a ${message.kind} message`, { retryable: false }, { cause: error });
      }
      return sendParts(parts, context, progress, async (part) => {
        const answer = await graph.post('/me/messages', part, context.attempt);
        return typeof answer['message_id'] === 'string' ? answer['message_id'] : undefined;
      });
    },
  };
}
