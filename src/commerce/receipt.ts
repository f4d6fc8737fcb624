import type { ReceiptMessage, ShippingUpdateMessage } from '../core/outbound.js';
import type { Catalog } from './catalog.js';
import type { Delivery } from './cart.js';
import { formatMoney } from './money.js';
import type { OrderData } from './order.js';

/** The words of a receipt; a shop rewords or translates them (the flows pass their own). */
export interface ReceiptTexts {
  readonly orderTitle: (orderId: number) => string;
  /** One item line: "2 × Ethiopia Yirgacheffe — €25.00". */
  readonly itemLine: (count: number, title: string, total: string) => string;
  readonly subtotal: string;
  readonly discount: string;
  readonly total: string;
  readonly delivery: Readonly<Record<Delivery, string>>;
  readonly free: string;
  readonly paymentMethod: Readonly<Record<Delivery, string>>;
  readonly recipient: string;
  readonly address: string;
  readonly time: string;
  /** The title of the button that opens the order's page (`orderUrl`); channels say "View order" without it. */
  readonly viewOrder?: string;
}

/** The words of an order's status news. */
export interface StatusTexts {
  /** A status as the customer reads it. */
  readonly statusName: (status: number) => string;
  /** The news itself: "Your order #12 is on its way." */
  readonly statusUpdate: (orderId: number, status: number) => string;
  /** The title of the button that opens the tracking link; channels say "Track package" without it. */
  readonly trackPackage?: string;
}

/** An order as a receipt needs it. */
export interface ReceiptOrder {
  readonly id: number;
  readonly data: OrderData;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** The words, catalog (for pictures), order link and locale of a receipt. */
export interface ReceiptOptions {
  /** The words, from the flows' messages module (`texts.receipt`). */
  readonly texts: ReceiptTexts;
  /** Adds each item's picture when the product is still in the catalog. */
  readonly catalog?: Catalog;
  readonly orderUrl?: string;
  readonly locale?: string;
}

/**
 * The receipt message of an order, with its plain-text lines for channels without a
 * receipt template. A free-text address goes to `addressText` (it has no postal structure);
 * the order link's button is titled `texts.viewOrder`.
 * @example receiptMessage({ id: 12, data: orderData, createdAt: event.at }, { texts: texts.receipt, catalog }).summary.totalCost
 */
export function receiptMessage(order: ReceiptOrder, options: ReceiptOptions): ReceiptMessage {
  const { texts } = options;
  const { data } = order;
  const money = (minor: number) => formatMoney(minor, data.currency, options.locale);
  const lines = [
    texts.orderTitle(order.id),
    ...data.items.map((item) => texts.itemLine(item.count, item.title, money(item.total))),
    `${texts.subtotal}: ${money(data.cost_cart)}`,
    ...(data.cost_discount > 0 ? [`${texts.discount}: −${money(data.cost_discount)}`] : []),
    `${texts.delivery[data.delivery]}: ${data.cost_delivery === 0 ? texts.free : money(data.cost_delivery)}`,
    `${texts.total}: ${money(data.cost_total)}`,
    `${texts.recipient}: ${data.recipient}, ${data.mobile}`,
    ...(data.delivery === 'shipping' ? [`${texts.address}: ${data.address}`] : []),
    `${texts.time}: ${data.time}`,
  ];
  return {
    kind: 'receipt',
    orderId: order.id,
    orderNumber: String(order.id),
    recipientName: data.recipient,
    currency: data.currency,
    paymentMethod: texts.paymentMethod[data.delivery],
    ...(options.orderUrl ? { orderUrl: options.orderUrl, ...(texts.viewOrder ? { orderUrlTitle: texts.viewOrder } : {}) } : {}),
    timestamp: Math.floor(order.createdAt / 1_000),
    ...(data.delivery === 'shipping' && data.address ? { addressText: data.address } : {}),
    delivery: data.delivery,
    items: data.items.map((item) => {
      const imageUrl = options.catalog?.get(item.id)?.image_url;
      return {
        title: item.title,
        subtitle: item.article,
        quantity: item.count,
        price: item.price,
        currency: data.currency,
        ...(imageUrl ? { imageUrl } : {}),
      };
    }),
    summary: { subtotal: data.cost_cart, shippingCost: data.cost_delivery, totalTax: 0, totalCost: data.cost_total },
    adjustments: data.cost_discount > 0 ? [{ name: texts.discount, amount: data.cost_discount }] : [],
    text: lines.join('\n'),
  };
}

/**
 * The news that an order moved to a status, with the tracking link and its button's title
 * when there is one.
 * @example shippingUpdateMessage(12, 70, { trackingUrl: 'https://track.example.com/1Z', texts: statusTexts })
 */
export function shippingUpdateMessage(
  orderId: number,
  status: number,
  options: { trackingUrl?: string; texts: StatusTexts },
): ShippingUpdateMessage {
  const { texts } = options;
  return {
    kind: 'shipping_update',
    orderId,
    status,
    statusText: texts.statusName(status),
    text: texts.statusUpdate(orderId, status),
    ...(options.trackingUrl
      ? { trackingUrl: options.trackingUrl, ...(texts.trackPackage ? { trackingUrlTitle: texts.trackPackage } : {}) }
      : {}),
  };
}
