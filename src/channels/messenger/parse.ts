import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ParsedWebhook } from '../../core/channel.js';
import type { InboundEventInput } from '../../core/events.js';
import { conversationKey, type Address } from '../../core/ids.js';

const id = z.string().min(1).max(256);

/** One `entry[].messaging[]` event, as far as the engine reads it (channels.md B.4). */
const messagingSchema = z.object({
  sender: z.object({ id }),
  recipient: z.object({ id }),
  timestamp: z.number().int().nonnegative().optional(),
  message: z
    .object({
      mid: z.string().min(1).optional(),
      text: z.string().optional(),
      quick_reply: z.object({ payload: z.string().min(1) }).optional(),
      is_echo: z.boolean().optional(),
    })
    .optional(),
  postback: z.object({ title: z.string().optional(), payload: z.string().min(1), mid: z.string().min(1).optional() }).optional(),
  delivery: z.object({ mids: z.array(z.string().min(1)).optional(), watermark: z.number().int().nonnegative() }).optional(),
  read: z.object({ watermark: z.number().int().nonnegative() }).optional(),
});

const envelopeSchema = z.object({
  object: z.literal('page'),
  entry: z.array(
    z.object({
      id,
      time: z.number().optional(),
      messaging: z.array(z.unknown()).optional(),
      // Events of threads another app controls (handover): not ours to answer.
      standby: z.array(z.unknown()).optional(),
    }),
  ),
});

type Messaging = z.infer<typeof messagingSchema>;

/** The longest text and payload an inbound event holds (events.ts). */
const maxText = 8_192;
const maxPayload = 2_048;

/**
 * Messenger webhook body → inbound events (channels.md B.4). Text and quick replies come
 * from `message`, postbacks from `postback` (quick-reply and postback payloads both become
 * `payload` events, the title kept); deliveries become one `delivered` status per listed
 * `mid`. A read receipt, and a delivery without `mids`, only carry a watermark (every
 * message up to that time): each becomes one status event with `upTo`, which the message
 * log applies to every message to that customer sent before it. Echoes of the
 * Page's own messages, attachments without text, other kinds and malformed events are
 * counted as ignored.
 * @example
 * parseMessengerWebhook(body, Date.now()).events[0]
 * // { type: 'text', id: 'm_…', key: 'conv:messenger:<page>:<psid>', at: 1767225600187, … }
 */
export function parseMessengerWebhook(body: unknown, now: number): ParsedWebhook {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) return { events: [], ignored: 1 };
  const events: InboundEventInput[] = [];
  let ignored = 0;
  for (const entry of envelope.data.entry) {
    ignored += entry.standby?.length ?? 0;
    for (const raw of entry.messaging ?? []) {
      const parsed = messagingSchema.safeParse(raw);
      const before = events.length;
      if (parsed.success) toEvents(parsed.data, entry.time ?? now, events);
      if (events.length === before) ignored++;
    }
  }
  return { events, ignored };
}

function toEvents(event: Messaging, entryTime: number, out: InboundEventInput[]): void {
  const address: Address = { channel: 'messenger', account: event.recipient.id, user: event.sender.id };
  const base = { key: conversationKey(address), at: event.timestamp ?? entryTime, address };
  const { message, postback, delivery, read } = event;

  if (message) {
    if (message.is_echo) return;
    const mid = message.mid ?? stableId(base.at, address, message.quick_reply?.payload ?? message.text ?? '');
    if (message.quick_reply) {
      out.push({ ...base, id: mid, type: 'payload', payload: message.quick_reply.payload.slice(0, maxPayload), ...title(message.text) });
    } else if (message.text !== undefined && message.text.length > 0) {
      out.push({ ...base, id: mid, type: 'text', text: message.text.slice(0, maxText) });
    }
  } else if (postback) {
    const mid = postback.mid ?? stableId(base.at, address, postback.payload);
    out.push({ ...base, id: mid, type: 'payload', payload: postback.payload.slice(0, maxPayload), ...title(postback.title) });
  } else if (delivery) {
    if (delivery.mids && delivery.mids.length > 0) {
      for (const messageId of delivery.mids) {
        out.push({ ...base, id: `${messageId}:delivered`, type: 'message_status', messageId, status: 'delivered' });
      }
    } else {
      out.push(watermark(base, address, 'delivered', delivery.watermark));
    }
  } else if (read) {
    out.push(watermark(base, address, 'read', read.watermark));
  }
}

function watermark(
  base: { key: string; at: number; address: Address },
  address: Address,
  status: 'delivered' | 'read',
  ms: number,
): InboundEventInput {
  const id = `messenger:${status}:${address.account}:${address.user}:${ms}`;
  return { ...base, id, type: 'message_status', upTo: ms, status };
}

function title(text: string | undefined): { title?: string } {
  return text ? { title: text } : {};
}

/** A dedupe id for an event that came without a `mid`: the same event hashes the same. */
function stableId(at: number, address: Address, content: string): string {
  const digest = createHash('sha256').update(`${address.account}\n${address.user}\n${at}\n${content}`).digest('base64url');
  return `messenger:${digest.slice(0, 32)}`;
}
