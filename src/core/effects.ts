import { z } from 'zod';
import { addressSchema, inboundEventSchema } from './events.js';
import { outboundMessageSchema } from './outbound.js';

/**
 * What flows ask the engine to do. A flow `emit`s these; it never does I/O itself.
 *
 * Two families, both committed in the same transaction as the snapshot that produced them:
 * - applied in that transaction: `create_order`, `update_order`, `schedule`, `tell`
 *   (they only write rows: an order, a task, an inbox event for another actor);
 * - appended to the outbox and dispatched after it: `reply`, `notify_crm`.
 */
export const effectSchema = z.discriminatedUnion('type', [
  /** Send a message to a customer. */
  z.object({ type: z.literal('reply'), to: addressSchema, message: outboundMessageSchema }),
  /** Create an order; the store gives it an id, and its lifecycle actor gets `order_created`. */
  z.object({
    type: z.literal('create_order'),
    customer: addressSchema,
    total: z.number().int(),
    currency: z.string().length(3),
    order: z.record(z.string(), z.unknown()),
  }),
  /** Record an order's new status or paid flag (the order flow decides; the store only writes). */
  z.object({
    type: z.literal('update_order'),
    orderId: z.number().int().positive(),
    status: z.number().int().optional(),
    paid: z.boolean().optional(),
  }),
  /** Tell the merchant's CRM about a new order. */
  z.object({ type: z.literal('notify_crm'), orderId: z.number().int().positive(), order: z.record(z.string(), z.unknown()) }),
  /** Run `command` in the customer's conversation at or after `at` (ms). */
  z.object({ type: z.literal('schedule'), to: addressSchema, command: z.string().min(1), at: z.number().int() }),
  /** Deliver an event to another actor, durably (its id and key are set by the engine when omitted). */
  z.object({
    type: z.literal('tell'),
    event: z.lazy(() => inboundEventSchema),
  }),
]);

/** An effect as a flow writes it (a told event's key is a plain string; the engine checks it). */
export type Effect = z.input<typeof effectSchema>;
export type EffectType = Effect['type'];
export type EffectOf<T extends EffectType> = Extract<Effect, { type: T }>;

/** Effects the engine applies inside the commit transaction. */
export const transactionalEffects = new Set<EffectType>(['create_order', 'update_order', 'schedule', 'tell']);

/** Effects that go to the outbox and out through a handler. */
export type DispatchedEffect = EffectOf<'reply'> | EffectOf<'notify_crm'>;

export function isDispatched(effect: Effect): effect is DispatchedEffect {
  return !transactionalEffects.has(effect.type);
}
