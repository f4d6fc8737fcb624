import { z } from 'zod';
import type { ParsedWebhook } from '../../core/channel.js';
import type { InboundEventInput } from '../../core/events.js';
import { conversationKey, type Address } from '../../core/ids.js';
import { parseMoney } from '../../commerce/money.js';

const id = z.string().min(1).max(256);
/** Unix seconds, as a string (Cloud API and On-Premises alike). */
const seconds = z.union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()]);
const waError = z.object({ code: z.number().int(), title: z.string().optional(), message: z.string().optional() });

/** One inbound message, as far as the engine reads it (channels.md C.4). */
const messageSchema = z.object({
  from: id.optional(),
  from_user_id: id.optional(),
  id: z.string().min(1).max(512),
  timestamp: seconds,
  type: z.string(),
  text: z.object({ body: z.string() }).optional(),
  context: z.object({ referred_product: z.object({ product_retailer_id: z.string().min(1) }).optional() }).optional(),
  order: z
    .object({
      text: z.string().optional(),
      product_items: z
        .array(
          z.object({
            product_retailer_id: z.string().min(1),
            quantity: z.number().int().positive().max(10_000),
            item_price: z.number().nonnegative().optional(),
            currency: z.string().optional(),
          }),
        )
        .min(1)
        .max(100),
    })
    .optional(),
  interactive: z
    .object({
      type: z.string(),
      button_reply: z.object({ id: z.string().min(1), title: z.string().optional() }).optional(),
      list_reply: z.object({ id: z.string().min(1), title: z.string().optional() }).optional(),
    })
    .optional(),
  button: z.object({ payload: z.string().min(1), text: z.string().optional() }).optional(),
});

/** One status of a message the shop sent (channels.md C.5). */
const statusSchema = z.object({
  id: z.string().min(1).max(512),
  status: z.string(),
  timestamp: seconds,
  recipient_id: id.optional(),
  recipient_user_id: id.optional(),
  errors: z.array(waError).optional(),
});

const valueSchema = z.object({
  metadata: z.object({ phone_number_id: id }).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});

const envelopeSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.object({ changes: z.array(z.object({ field: z.string().optional(), value: z.unknown() })) })),
});

type Value = z.infer<typeof valueSchema>;
type Message = z.infer<typeof messageSchema>;
type Status = z.infer<typeof statusSchema>;

const statuses = new Set(['sent', 'delivered', 'read', 'failed']);
const maxText = 8_192;
const maxPayload = 2_048;

/** The account of bodies that name none, and where value-level platform errors are reported. */
export interface WhatsAppParseOptions {
  /**
   * The account of On-Premises bodies, which name no phone number (one deployment per
   * number): the configured phone number id, else `onprem`.
   */
  readonly onPremAccount?: string;
  /** Called with each value-level error (`value.errors[]`, e.g. 130429): it is news, not an event. */
  readonly platformError?: (code: number, title: string | undefined) => void;
}

/**
 * WhatsApp webhook body → inbound events, for the Cloud API envelope
 * (`entry[].changes[].value`) and the older On-Premises shape (top-level `messages[]`,
 * `statuses[]`). Texts, product questions (`context.referred_product`), carts
 * (`type: order`, prices to exact minor units), button and list replies, template buttons,
 * and sent/delivered/read/failed statuses (dedupe id `<wamid>:<status>`). Value-level
 * errors, other kinds and malformed items are counted as ignored.
 * @example
 * parseWhatsAppWebhook(body, Date.now()).events[0]
 * // { type: 'text', id: 'wamid.…', key: 'conv:whatsapp:106540352242922:34600111222', … }
 */
export function parseWhatsAppWebhook(body: unknown, _now: number, options: WhatsAppParseOptions = {}): ParsedWebhook {
  const out: InboundEventInput[] = [];
  const counter = { ignored: 0 };
  const cloud = envelopeSchema.safeParse(body);
  if (cloud.success) {
    for (const entry of cloud.data.entry) {
      for (const change of entry.changes) {
        const value = change.field === undefined || change.field === 'messages' ? valueSchema.safeParse(change.value) : undefined;
        const account = value?.data?.metadata?.phone_number_id;
        if (value?.success && account) readValue(value.data, account, out, counter, options);
        else counter.ignored++;
      }
    }
  } else {
    const onPrem = typeof body === 'object' && body !== null && !('object' in body) ? valueSchema.safeParse(body) : undefined;
    if (onPrem?.success && (onPrem.data.messages || onPrem.data.statuses || onPrem.data.errors)) {
      readValue(onPrem.data, options.onPremAccount ?? 'onprem', out, counter, options);
    } else {
      counter.ignored++;
    }
  }
  return { events: out, ignored: counter.ignored };
}

function readValue(
  value: Value,
  account: string,
  out: InboundEventInput[],
  counter: { ignored: number },
  options: WhatsAppParseOptions,
): void {
  for (const raw of value.messages ?? []) {
    const message = messageSchema.safeParse(raw);
    const event = message.success ? messageEvent(message.data, account) : undefined;
    if (event) out.push(event);
    else counter.ignored++;
  }
  for (const raw of value.statuses ?? []) {
    const status = statusSchema.safeParse(raw);
    const event = status.success ? statusEvent(status.data, account) : undefined;
    if (event) out.push(event);
    else counter.ignored++;
  }
  for (const raw of value.errors ?? []) {
    const error = waError.safeParse(raw);
    if (error.success) options.platformError?.(error.data.code, error.data.title);
    counter.ignored++;
  }
}

function base(user: string, account: string, id: string, timestamp: string | number) {
  const address: Address = { channel: 'whatsapp', account, user };
  return { id, key: conversationKey(address), at: Number(timestamp) * 1000, address };
}

function messageEvent(message: Message, account: string): InboundEventInput | undefined {
  // Phone number first (stable for existing customers); the business-scoped id when there is none.
  const user = message.from ?? message.from_user_id;
  if (!user) return undefined;
  const common = base(user, account, message.id, message.timestamp);
  switch (message.type) {
    case 'text': {
      if (!message.text) return undefined;
      const text = message.text.body.slice(0, maxText);
      const product = message.context?.referred_product;
      if (product) return { ...common, type: 'product_question', productRef: product.product_retailer_id, ...(text ? { text } : {}) };
      return text ? { ...common, type: 'text', text } : undefined;
    }
    case 'order': {
      if (!message.order) return undefined;
      const items = message.order.product_items.map((item) => ({
        ref: item.product_retailer_id,
        quantity: item.quantity,
        ...price(item.item_price, item.currency),
      }));
      return { ...common, type: 'cart_order', items, ...(message.order.text ? { text: message.order.text.slice(0, maxText) } : {}) };
    }
    case 'interactive': {
      const reply = message.interactive?.button_reply ?? message.interactive?.list_reply;
      return reply ? payload(common, reply.id, reply.title) : undefined;
    }
    case 'button':
      return message.button ? payload(common, message.button.payload, message.button.text) : undefined;
    default:
      return undefined;
  }
}

function payload(common: ReturnType<typeof base>, value: string, title: string | undefined): InboundEventInput {
  return { ...common, type: 'payload', payload: value.slice(0, maxPayload), ...(title ? { title } : {}) };
}

/** `item_price` is a decimal in major units: read through its digits, never multiplied as a float. */
function price(itemPrice: number | undefined, currency: string | undefined): { price?: number; currency?: string } {
  if (itemPrice === undefined || currency === undefined) return {};
  try {
    return { price: parseMoney(String(itemPrice), currency), currency };
  } catch {
    // An unknown currency or more decimals than it has: the flow re-prices from the catalog anyway.
    return {};
  }
}

function statusEvent(status: Status, account: string): InboundEventInput | undefined {
  const user = status.recipient_id ?? status.recipient_user_id;
  if (!user || !statuses.has(status.status)) return undefined;
  const first = status.errors?.[0];
  const error = first ? `${first.code}${first.title ? ` ${first.title}` : ''}` : undefined;
  return {
    ...base(user, account, `${status.id}:${status.status}`, status.timestamp),
    type: 'message_status',
    messageId: status.id,
    status: status.status as 'sent' | 'delivered' | 'read' | 'failed',
    ...(error ? { error } : {}),
  };
}
