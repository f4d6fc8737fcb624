import { z } from 'zod';
import type { Address } from '../core/ids.js';
import type { PricedCart } from './cart.js';

/** One ordered product, as stored in the order and sent to the CRM; amounts in minor units. */
export const orderItemSchema = z.object({
  id: z.string(),
  article: z.string(),
  title: z.string(),
  count: z.number().int().positive(),
  /** The unit price. */
  price: z.number().int(),
  discount: z.number().int(),
  /** `price × count − discount`. */
  total: z.number().int(),
});
/** One ordered product. */
export type OrderItem = z.infer<typeof orderItemSchema>;

/**
 * The order model, stored as the order's `data`: what was bought, how it is delivered, who
 * receives it, and the sums, all integers in minor units of `currency`. `address` is empty
 * for pickup; `time` is the customer's own words ("tomorrow after 6pm", "as soon as possible").
 */
export const orderDataSchema = z.object({
  items: z.array(orderItemSchema).min(1),
  delivery: z.enum(['pickup', 'shipping']),
  address: z.string(),
  recipient: z.string(),
  mobile: z.string(),
  time: z.string(),
  cost_cart: z.number().int(),
  cost_discount: z.number().int(),
  cost_delivery: z.number().int(),
  cost_total: z.number().int(),
  currency: z.string().length(3),
});
/** The order model (see `orderDataSchema`). */
export type OrderData = z.infer<typeof orderDataSchema>;

/** What checkout collects besides the cart. */
export interface OrderDetails {
  readonly address?: string;
  readonly recipient: string;
  readonly mobile: string;
  readonly time: string;
}

/**
 * The order data of a priced cart (priced with its delivery) and the checkout answers.
 * @example buildOrderData(priceCart(cart, catalog, { delivery: 'pickup' }), { recipient: 'Ada', mobile: '+441234567', time: 'asap' })
 */
export function buildOrderData(priced: PricedCart, details: OrderDetails): OrderData {
  if (!priced.delivery) throw new TypeError('price the cart with its delivery before building the order');
  return {
    items: priced.lines.map((line) => ({
      id: line.product.id,
      article: line.product.article,
      title: line.product.title,
      count: line.quantity,
      price: line.unitPrice,
      discount: line.discount,
      total: line.total,
    })),
    delivery: priced.delivery,
    address: priced.delivery === 'shipping' ? (details.address ?? '') : '',
    recipient: details.recipient,
    mobile: details.mobile,
    time: details.time,
    cost_cart: priced.subtotal,
    cost_discount: priced.discount,
    cost_delivery: priced.deliveryCost,
    cost_total: priced.total,
    currency: priced.currency,
  };
}

/** The order statuses of the contract, by name. A status is never lowered. */
export const orderStatus = {
  created: 0,
  awaitingProcessing: 10,
  confirmed: 20,
  cancelled: 30,
  paid: 40,
  refundIssued: 50,
  packed: 60,
  sent: 70,
  delivered: 80,
  handedOver: 90,
} as const;

/** The contract's status codes and names, in order. */
export const orderStatuses: readonly { readonly code: number; readonly name: string }[] = [
  { code: 0, name: 'created' },
  { code: 10, name: 'awaiting processing' },
  { code: 20, name: 'confirmed' },
  { code: 30, name: 'cancelled' },
  { code: 40, name: 'paid' },
  { code: 50, name: 'refund issued' },
  { code: 60, name: 'packed for dispatch' },
  { code: 70, name: 'sent to the recipient' },
  { code: 80, name: 'delivered' },
  { code: 90, name: 'handed over' },
];

/** Whether a code is one of the contract's statuses. */
export function isOrderStatus(code: number): boolean {
  return orderStatuses.some((status) => status.code === code);
}

/**
 * The contract's name of a status code, or `undefined` for an unknown code.
 * @example statusName(70) // 'sent to the recipient'
 */
export function statusName(code: number): string | undefined {
  return orderStatuses.find((status) => status.code === code)?.name;
}

/** Whether an order at `from` may be set to `to`: both known, and never lowered (the same is fine). */
export function canMoveTo(from: number, to: number): boolean {
  return isOrderStatus(from) && isOrderStatus(to) && to >= from;
}

/** What the merchant asks of an order. */
export type OrderChange = { readonly type: 'order_status'; readonly status: number } | { readonly type: 'order_paid' };

/** Whether a change is allowed, and whether it changes anything (the same status twice does not). */
export interface TransitionVerdict {
  readonly accepted: boolean;
  readonly changed: boolean;
  /** Why it was refused, or why nothing changes. */
  readonly reason?: string;
}

/**
 * Decides a change to an order, for the order flow and the merchant API alike. Pure.
 * @example
 * orderTransition(20, false, { type: 'order_status', status: 10 })
 * // { accepted: false, changed: false, reason: '… a status is never lowered …' }
 */
export function orderTransition(currentStatus: number, paid: boolean, change: OrderChange): TransitionVerdict {
  if (change.type === 'order_paid') {
    return paid ? { accepted: true, changed: false, reason: 'the order is already paid' } : { accepted: true, changed: true };
  }
  const { status } = change;
  if (!isOrderStatus(status)) return { accepted: false, changed: false, reason: `${status} is not an order status` };
  if (status === currentStatus) return { accepted: true, changed: false, reason: `the order is already ${statusName(status)}` };
  if (!canMoveTo(currentStatus, status)) {
    return {
      accepted: false,
      changed: false,
      reason:
        `the order is ${currentStatus} (${statusName(currentStatus) ?? 'unknown'}); ` +
        `a status is never lowered to ${status} (${statusName(status)})`,
    };
  }
  return { accepted: true, changed: true };
}

/** The new-order notification for the CRM, with the contract's fields in the contract's order. */
export interface CrmPayload {
  readonly id: number;
  /** The merchant-facing customer id; the CRM notifier fills it from the store when absent. */
  readonly user_id?: number;
  readonly user_chat_id: string;
  readonly channel: string;
  readonly cost_total: number;
  readonly cost_cart: number;
  readonly cost_discount: number;
  readonly cost_delivery: number;
  readonly delivery: 'pickup' | 'shipping';
  readonly time: string;
  readonly recipient: string;
  readonly address: string;
  readonly mobile: string;
  readonly goods: readonly OrderItem[];
}

/** Anything shaped like a stored order: its id, customer and data (`OrderRecord` fits). */
export interface OrderRecordLike {
  readonly id: number;
  readonly customer: Address;
  readonly customerId?: number;
  readonly data: Record<string, unknown>;
}

/**
 * The CRM fields of an order. Amounts stay integers in minor units. Throws a `ZodError`
 * when the order's data is not an order model.
 * @example crmPayload(orderRecord).goods[0]?.article
 */
export function crmPayload(order: OrderRecordLike): CrmPayload {
  const data = orderDataSchema.parse(order.data);
  return {
    id: order.id,
    ...(order.customerId === undefined ? {} : { user_id: order.customerId }),
    user_chat_id: order.customer.user,
    channel: order.customer.channel,
    cost_total: data.cost_total,
    cost_cart: data.cost_cart,
    cost_discount: data.cost_discount,
    cost_delivery: data.cost_delivery,
    delivery: data.delivery,
    time: data.time,
    recipient: data.recipient,
    address: data.address,
    mobile: data.mobile,
    goods: data.items.map((item) => ({ ...item })),
  };
}
