import { enqueueActions, setup } from 'xstate';
import { formatMoney } from '../src/commerce/money.js';
import { crmPayload, orderDataSchema, orderStatus, orderTransition, type OrderData } from '../src/commerce/order.js';
import { receiptMessage, shippingUpdateMessage } from '../src/commerce/receipt.js';
import type { Effect } from '../src/core/effects.js';
import { addressSchema, type InboundEvent } from '../src/core/events.js';
import { defineFlow, type FlowInput } from '../src/core/flow.js';
import { conversationKey, type Address } from '../src/core/ids.js';
import type { OutboundMessage } from '../src/core/outbound.js';
import type { ShopServices } from './services.js';

export { orderTransition, type OrderChange, type TransitionVerdict } from '../src/commerce/order.js';

/** An order's lifecycle memory: its status, the paid flag, and what notifications need. */
export interface OrderContext {
  readonly status: number;
  readonly paid: boolean;
  readonly customer?: Address;
  readonly order?: OrderData;
}

/** The `order` of an `order_created` event: the shop flow's order data plus what the engine adds. */
const createdOrderSchema = orderDataSchema.extend({ customer: addressSchema });

/** Statuses the customer hears about (not "created", not "awaiting processing"). */
const notified = new Set<number>([
  orderStatus.confirmed,
  orderStatus.cancelled,
  orderStatus.paid,
  orderStatus.refundIssued,
  orderStatus.packed,
  orderStatus.sent,
  orderStatus.delivered,
  orderStatus.handedOver,
]);

/**
 * The order lifecycle (actor key `order:<id>`): sends the receipt and tells the CRM when the
 * order is created, then applies the merchant's status changes (never lowered, the same one
 * twice changes nothing) and the payment, telling the customer and their conversation.
 */
export function createOrderMachine({ texts, catalog, payInChat }: ShopServices) {
  /** The bill to pay in the chat: one line per item, and delivery when it costs. */
  const invoice = (orderId: number, order: OrderData): OutboundMessage => {
    const lines = order.items.map((item) => ({ label: texts.invoice.line(item.title, item.count), amount: item.total }));
    if (order.cost_delivery > 0) lines.push({ label: texts.invoice.delivery, amount: order.cost_delivery });
    const count = order.items.reduce((sum, item) => sum + item.count, 0);
    return {
      kind: 'invoice',
      orderId,
      title: texts.invoice.title(orderId),
      description: texts.invoice.description(count),
      currency: order.currency,
      lines,
      text: texts.invoice.text(orderId, formatMoney(order.cost_total, order.currency, texts.locale)),
    };
  };

  type Step = (context: OrderContext, event: InboundEvent) => { context?: Partial<OrderContext>; effects: Effect[] };
  const act = (step: Step) =>
    enqueueActions<OrderContext, InboundEvent, undefined, InboundEvent, never, never, never, never, Effect>(
      ({ context, event, enqueue }) => {
        const outcome = step(context, event);
        if (outcome.context) enqueue.assign(outcome.context);
        for (const effect of outcome.effects) enqueue.emit(effect);
      },
    );

  const reply = (context: OrderContext, message: OutboundMessage): Effect[] =>
    context.customer ? [{ type: 'reply', to: context.customer, message }] : [];

  /** Tells the customer's conversation where the order stands (it lists "My orders"). */
  const update = (context: OrderContext, event: InboundEvent, orderId: number): Effect[] => {
    const { customer, order } = context;
    if (!customer) return [];
    return [
      {
        type: 'tell',
        event: {
          type: 'order_update',
          id: `${event.id}>update`,
          key: conversationKey(customer),
          at: event.at,
          address: customer,
          orderId,
          status: context.status,
          paid: context.paid,
          ...(order ? { total: order.cost_total, currency: order.currency } : {}),
        },
      },
    ];
  };

  const created: Step = (context, event) => {
    if (event.type !== 'order_created') return { effects: [] };
    const parsed = createdOrderSchema.safeParse(event.order);
    if (!parsed.success) {
      throw new TypeError(`order ${event.orderId}: the order data is not an order model (${parsed.error.issues[0]?.path.join('.')})`);
    }
    const { customer, ...data } = parsed.data;
    const order: OrderData = orderDataSchema.parse(data);
    // A status or payment that came before the order is kept.
    const next: OrderContext = { status: context.status, paid: context.paid, customer, order };
    const receipt = receiptMessage(
      { id: event.orderId, data: order, createdAt: event.at },
      { texts: texts.receipt, catalog, locale: texts.locale },
    );
    const crm = crmPayload({ id: event.orderId, customer, data: order });
    return {
      context: next,
      effects: [
        ...reply(next, receipt),
        ...(payInChat(customer) ? reply(next, invoice(event.orderId, order)) : []),
        { type: 'notify_crm', orderId: event.orderId, order: { ...crm } },
        ...update(next, event, event.orderId),
      ],
    };
  };

  const statusChanged: Step = (context, event) => {
    if (event.type !== 'order_status') return { effects: [] };
    const { status } = event;
    const paysNow = status === orderStatus.paid && !context.paid;
    const next: OrderContext = { ...context, status, paid: context.paid || paysNow };
    const message = shippingUpdateMessage(event.orderId, status, {
      ...(event.trackingUrl ? { trackingUrl: event.trackingUrl } : {}),
      texts: {
        statusName: (code) => texts.statusNames[code] ?? String(code),
        statusUpdate: texts.statusUpdate,
        trackPackage: texts.buttons.trackPackage,
      },
    });
    // Status 40 of an order already paid is not news for the customer.
    const tellCustomer = notified.has(status) && !(status === orderStatus.paid && context.paid);
    return {
      context: { status, paid: next.paid },
      effects: [
        { type: 'update_order', orderId: event.orderId, status, ...(paysNow ? { paid: true } : {}) },
        ...(tellCustomer ? reply(next, { ...message, intent: 'update' }) : []),
        ...update(next, event, event.orderId),
      ],
    };
  };

  const paid: Step = (context, event) => {
    if (event.type !== 'order_paid') return { effects: [] };
    const next: OrderContext = { ...context, paid: true };
    const total = context.order ? formatMoney(context.order.cost_total, context.order.currency, texts.locale) : '';
    return {
      context: { paid: true },
      effects: [
        { type: 'update_order', orderId: event.orderId, paid: true },
        ...reply(next, { kind: 'text', text: texts.paymentReceived(event.orderId, total), intent: 'update' }),
        ...update(next, event, event.orderId),
      ],
    };
  };

  return setup({
    types: { context: {} as OrderContext, events: {} as InboundEvent, input: {} as FlowInput, emitted: {} as Effect },
    guards: {
      /** A status the order may move to, and not the one it has: never lowered, unknown codes refused. */
      statusChanges: ({ context, event }) =>
        event.type === 'order_status' &&
        orderTransition(context.status, context.paid, { type: 'order_status', status: event.status }).changed,
      notPaidYet: ({ context }) => !context.paid,
    },
    actions: {
      sendReceipt: act(created),
      applyStatus: act(statusChanged),
      applyPayment: act(paid),
    },
  }).createMachine({
    id: 'order',
    context: ({ input }) => ({ status: orderStatus.created, paid: false, ...(input.address ? { customer: input.address } : {}) }),
    initial: 'waiting',
    on: {
      order_status: { guard: 'statusChanges', actions: 'applyStatus' },
      order_paid: { guard: 'notPaidYet', actions: 'applyPayment' },
    },
    states: {
      /** Until `order_created` (status events before it still apply; nobody is told). */
      waiting: {
        on: { order_created: { target: 'open', actions: 'sendReceipt' } },
      },
      open: {},
    },
  });
}

/** The order lifecycle flow: one actor per order, `order:<id>`. */
export const orderFlow = defineFlow<ShopServices>({
  id: 'order',
  version: 1,
  kind: 'order',
  machine: (services) => createOrderMachine(services),
});
