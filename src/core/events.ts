import { z } from 'zod';
import type { ActorKey } from './ids.js';
import { outboundMessageSchema } from './outbound.js';

/**
 * The normalized inbound events. Every input (a webhook, a merchant API call, a due task,
 * a flow telling another flow something) becomes one of these before it is stored.
 * `id` is the dedupe id: the same id twice is stored once.
 */

export const addressSchema = z.object({
  channel: z.string().min(1).max(32),
  account: z.string().min(1).max(128),
  user: z.string().min(1).max(256),
});

const base = {
  id: z.string().min(1).max(512),
  key: z
    .string()
    .min(3)
    .max(512)
    .regex(/^[a-z][a-z0-9_-]*:/, 'an actor key is <kind>:<rest>')
    .transform((k) => k as ActorKey),
  /** Milliseconds since the epoch, when the platform says it happened. */
  at: z.number().int().nonnegative(),
  /** The customer this event is from or about. */
  address: addressSchema.optional(),
};

const cartItemSchema = z.object({
  /** The product's id or article (a WhatsApp `product_retailer_id`). */
  ref: z.string().min(1),
  quantity: z.number().int().positive().max(10_000),
  /** The unit price the platform showed, minor units, when it says. */
  price: z.number().int().nonnegative().optional(),
  currency: z.string().length(3).optional(),
});

export const inboundEventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('text'), text: z.string().max(8_192) }),
  /** A tapped button, postback, quick reply or list row. */
  z.object({ ...base, type: z.literal('payload'), payload: z.string().max(2_048), title: z.string().optional() }),
  /** A question about one product (WhatsApp `referred_product`, a product link). */
  z.object({ ...base, type: z.literal('product_question'), productRef: z.string().min(1), text: z.string().optional() }),
  /** A whole cart sent as one message (a WhatsApp cart). */
  z.object({ ...base, type: z.literal('cart_order'), items: z.array(cartItemSchema).min(1).max(100), text: z.string().optional() }),
  /** What the platform says happened to a message the shop sent. */
  z
    .object({
      ...base,
      type: z.literal('message_status'),
      /** The platform's id of the message. */
      messageId: z.string().min(1).optional(),
      /** Or: every message to this customer up to this time (ms; Messenger's watermark). */
      upTo: z.number().int().nonnegative().optional(),
      status: z.enum(['sent', 'delivered', 'read', 'failed']),
      error: z.string().optional(),
    })
    .refine((event) => (event.messageId === undefined) !== (event.upTo === undefined), {
      error: 'a message status names either messageId or upTo',
      path: ['messageId'],
    }),
  /** A command for the conversation, such as `menu` (a scheduled task runs one). */
  z.object({ ...base, type: z.literal('command'), command: z.string().min(1).max(1_024) }),
  /** A scheduled task came due: its command runs as if the customer had sent it. */
  z.object({ ...base, type: z.literal('task_due'), taskId: z.number().int().positive(), command: z.string().min(1).max(1_024) }),
  /** The order was created by a conversation: the first event of an order's lifecycle. */
  z.object({ ...base, type: z.literal('order_created'), orderId: z.number().int().positive(), order: z.record(z.string(), z.unknown()) }),
  /** The merchant moves an order to a status. */
  z.object({
    ...base,
    type: z.literal('order_status'),
    orderId: z.number().int().positive(),
    status: z.number().int(),
    trackingUrl: z.string().optional(),
  }),
  /** The order was paid (merchant API or an in-chat payment). */
  z.object({ ...base, type: z.literal('order_paid'), orderId: z.number().int().positive(), method: z.string().optional() }),
  /**
   * A message the merchant pushes to the customer (a receipt, a shipping update): the engine
   * sends it as it is, after the conversation's flow has seen the event.
   */
  z.object({ ...base, type: z.literal('push'), message: outboundMessageSchema }),
  /** News about an order for the customer's conversation (keeps its list of orders current). */
  z.object({
    ...base,
    type: z.literal('order_update'),
    orderId: z.number().int().positive(),
    status: z.number().int(),
    paid: z.boolean(),
    total: z.number().int().optional(),
    currency: z.string().optional(),
  }),
]);

export type InboundEvent = z.infer<typeof inboundEventSchema>;
export type InboundEventType = InboundEvent['type'];
export type EventOf<T extends InboundEventType> = Extract<InboundEvent, { type: T }>;
/** An event as a producer writes it: the key may be a plain string, it is checked on ingest. */
export type InboundEventInput = z.input<typeof inboundEventSchema>;
