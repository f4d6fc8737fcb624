import { randomUUID } from 'node:crypto';
import { orderTransition, statusName } from '../../commerce/order.js';
import { EngineError } from '../../core/errors.js';
import type { InboundEventInput } from '../../core/events.js';
import { orderKey, type OrderId } from '../../core/ids.js';
import type { OrderRecord, Store } from '../../core/store.js';
import { defineMethod, type MethodContext } from '../method.js';
import { getOrderSchema, listOrdersSchema, paidOrderSchema, updateOrderStatusSchema } from '../schemas.js';
import { orderPageSchema, orderView, orderViewSchema } from '../views.js';

const named = (status: number) => `${status} (${statusName(status) ?? 'unknown'})`;

async function mustFindOrder(store: Store, id: number): Promise<OrderRecord> {
  const order = await store.getOrder(id as OrderId);
  if (!order) throw new EngineError('NOT_FOUND', `order ${id} not found`);
  return order;
}

/**
 * Runs a change through the order's own actor and waits for it: two calls for one order
 * are serialized there, in arrival order, whatever instance took them. The dedupe id is
 * new for each call, so a caller reusing its `x-request-id` still gets its change applied.
 */
async function applyToOrder(context: MethodContext, id: number, change: { type: 'order_status'; status: number } | { type: 'order_paid' }): Promise<OrderRecord> {
  const { engine, clock, requestId } = context;
  const base = { id: `api:${requestId}:${randomUUID()}`, key: orderKey(id), at: clock(), orderId: id };
  const event: InboundEventInput = change.type === 'order_status' ? { ...base, type: 'order_status', status: change.status } : { ...base, type: 'order_paid' };
  const result = await engine.ingest([event], { wait: true });
  if ((result.failed ?? 0) > 0) throw new EngineError('INTERNAL', `order ${id}: the ${change.type} event failed in the order flow`);
  return mustFindOrder(engine.store, id);
}

/** `getOrder`: the order. */
export const getOrder = defineMethod({
  summary: 'An order: status, paid flag, sums, goods, delivery and recipient.',
  input: getOrderSchema,
  output: orderViewSchema,
  run: async ({ id }, { engine }) => orderView(await mustFindOrder(engine.store, id)),
});

/** `listOrders`: a page of orders by id. */
export const listOrders = defineMethod({
  summary: 'Orders by id, oldest first, optionally of one status; page with `after` = the `next` of the page before.',
  input: listOrdersSchema,
  output: orderPageSchema,
  run: async ({ status, limit, after }, { engine }) => {
    // One more than asked tells whether another page follows.
    const found = await engine.store.listOrders({ limit: limit + 1, ...(status === undefined ? {} : { status }), ...(after === undefined ? {} : { after }) });
    const page = found.slice(0, limit);
    return { orders: page.map(orderView), next: found.length > limit ? (page.at(-1)?.id ?? null) : null };
  },
});

/** `updateOrderStatus`: checked with `orderTransition`, applied by the order's actor, re-read. */
export const updateOrderStatus = defineMethod({
  summary: "Moves an order to a status; the customer hears about it on their channel. A status is never lowered (409); the same status again changes nothing.",
  input: updateOrderStatusSchema,
  output: orderViewSchema,
  // Calls for one order take turns on this instance, so the re-read shows this call's
  // outcome; the order's actor still orders them against other instances and sources.
  run: ({ id, status }, context) =>
    context.serial(`order:${id}`, async () => {
      const before = await mustFindOrder(context.engine.store, id);
      const verdict = orderTransition(before.status, before.paid, { type: 'order_status', status });
      if (!verdict.accepted) throw new EngineError('CONFLICT', `status ${named(before.status)} cannot go back to ${named(status)}`);
      const after = await applyToOrder(context, id, { type: 'order_status', status });
      // Another instance's call may have moved the order on before the re-read. Statuses only
      // go up, so if the history holds this status, the order reached it (by this call, or one
      // asking the same) and the answer is the order as it is now; if not, something moved it
      // past this status before the order's turn, and this call changed nothing.
      if (after.status !== status && !after.history.some((change) => change.status === status)) {
        throw new EngineError('CONFLICT', `status ${named(after.status)} cannot go back to ${named(status)}: the order moved on meanwhile; nothing changed`);
      }
      context.logger.info({ requestId: context.requestId, caller: context.caller.name, orderId: id, from: before.status, status }, 'order status set');
      return orderView(after);
    }),
});

/** `paidOrder`: the paid flag, once. */
export const paidOrder = defineMethod({
  summary: 'Marks an order paid (once; the customer gets a payment confirmation). Paying a paid order again changes nothing.',
  input: paidOrderSchema,
  output: orderViewSchema,
  run: ({ id }, context) =>
    context.serial(`order:${id}`, async () => {
      const before = await mustFindOrder(context.engine.store, id);
      if (!orderTransition(before.status, before.paid, { type: 'order_paid' }).changed) return orderView(before);
      const after = await applyToOrder(context, id, { type: 'order_paid' });
      if (!after.paid) throw new EngineError('INTERNAL', `order ${id}: the payment was not recorded`);
      context.logger.info({ requestId: context.requestId, caller: context.caller.name, orderId: id }, 'order paid');
      return orderView(after);
    }),
});
