import { formatMoney, multiplyMoney, addMoney } from '../commerce/money.js';
import { orderStatus } from '../commerce/order.js';
import type { ReceiptMessage, ShippingUpdateMessage } from '../core/outbound.js';
import { minorUnits } from './amounts.js';
import type { ReceiptParams, ShippingParams } from './schemas.js';

/**
 * The words of a push's plain-text lines, for channels without a native receipt or shipping
 * template. A shop rewords or translates them by passing its own to `createMerchantApi`
 * (`pushTexts`). Amounts arrive already formatted in `locale` ("€19.80").
 */
export interface PushTexts {
  /** The locale amounts are formatted in. */
  readonly locale: string;
  /** The receipt's first line: "Order ORD-1001". */
  readonly order: (orderNumber: string) => string;
  /** One item line: "2 × Sencha — €19.80". */
  readonly itemLine: (quantity: number, title: string, total: string) => string;
  readonly subtotal: string;
  readonly shipping: string;
  readonly tax: string;
  readonly total: string;
  /** Before the recipient's name. */
  readonly recipient: string;
  /** Before the shipping address. */
  readonly address: string;
  /** Before the payment method. */
  readonly payment: string;
  /** A shipping update's first line, when the push names the customer: "Hi Ana!". */
  readonly greeting: (firstName: string) => string;
  /** "Package 1Z999: Shipped." */
  readonly packageStatus: (packageNumber: string, status: string) => string;
}

/** The English words of the pushes, unless the shop passes its own. */
export const defaultPushTexts: PushTexts = {
  locale: 'en',
  order: (orderNumber) => `Order ${orderNumber}`,
  itemLine: (quantity, title, total) => `${quantity} × ${title} — ${total}`,
  subtotal: 'Subtotal',
  shipping: 'Shipping',
  tax: 'Tax',
  total: 'Total',
  recipient: 'For',
  address: 'To',
  payment: 'Payment',
  greeting: (firstName) => `Hi ${firstName}!`,
  packageStatus: (packageNumber, status) => `Package ${packageNumber}: ${status}.`,
};

/** A number order id when the merchant's order or package number is one (the message model keeps one). */
const numericId = (text: string): number => (/^\d{1,15}$/.test(text) ? Number(text) : 0);

/**
 * The core receipt of an `Order Receipt Push`: every field mapped, amounts in minor units
 * from their decimal text, and the receipt as plain lines for channels without a receipt
 * template, in `texts`. A left-out subtotal is the items' sum; left-out shipping and tax are 0.
 * @example receiptPush(params, Date.now()).summary.totalCost // 2495 for "total_cost": 24.95
 */
export function receiptPush(params: ReceiptParams, now: number, texts: PushTexts = defaultPushTexts): ReceiptMessage {
  const { currency, summary } = params;
  const items = params.elements.map((element) => {
    const itemCurrency = element.currency ?? currency;
    return {
      title: element.title,
      ...(element.subtitle ? { subtitle: element.subtitle } : {}),
      quantity: element.quantity ?? 1,
      price: minorUnits(element.price, itemCurrency),
      currency: itemCurrency,
      ...(element.image_url ? { imageUrl: element.image_url } : {}),
    };
  });
  const amount = (value: number | string | undefined, fallback: number) => (value === undefined ? fallback : minorUnits(value, currency));
  const sums = {
    subtotal: amount(summary.subtotal, addMoney(...items.map((item) => multiplyMoney(item.price, item.quantity)))),
    shippingCost: amount(summary.shipping_cost, 0),
    totalTax: amount(summary.total_tax, 0),
    totalCost: minorUnits(summary.total_cost, currency),
  };
  const adjustments = (params.adjustments ?? []).map((adjustment) => ({ name: adjustment.name, amount: minorUnits(adjustment.amount, currency) }));
  const address = params.address
    ? {
        street1: params.address.street_1,
        ...(params.address.street_2 ? { street2: params.address.street_2 } : {}),
        city: params.address.city,
        postalCode: params.address.postal_code,
        state: params.address.state,
        country: params.address.country,
      }
    : undefined;
  const money = (minor: number, code = currency) => formatMoney(minor, code, texts.locale);
  const lines = [
    texts.order(params.order_number),
    ...items.map((item) => texts.itemLine(item.quantity, item.title, money(multiplyMoney(item.price, item.quantity), item.currency))),
    `${texts.subtotal}: ${money(sums.subtotal)}`,
    ...adjustments.map((adjustment) => `${adjustment.name}: −${money(adjustment.amount)}`),
    `${texts.shipping}: ${money(sums.shippingCost)}`,
    ...(sums.totalTax > 0 ? [`${texts.tax}: ${money(sums.totalTax)}`] : []),
    `${texts.total}: ${money(sums.totalCost)}`,
    `${texts.recipient}: ${params.recipient_name}`,
    ...(address
      ? [`${texts.address}: ${[address.street1, address.street2, `${address.postalCode} ${address.city}`, address.state, address.country].filter(Boolean).join(', ')}`]
      : []),
    `${texts.payment}: ${params.payment_method}`,
    ...(params.order_url ? [params.order_url] : []),
  ];
  return {
    kind: 'receipt',
    orderId: numericId(params.order_number),
    orderNumber: params.order_number,
    recipientName: params.recipient_name,
    currency,
    paymentMethod: params.payment_method,
    ...(params.order_url ? { orderUrl: params.order_url } : {}),
    timestamp: params.timestamp === undefined ? Math.floor(now / 1_000) : Number(params.timestamp),
    ...(address ? { address } : {}),
    delivery: address ? 'shipping' : 'pickup',
    items,
    summary: sums,
    adjustments,
    text: lines.join('\n'),
  };
}

/**
 * The core shipping update of a `Shipping Status Update Push`: the package, its status as
 * the merchant words it, the tracking link and picture. Its order status is 70 (sent to
 * the recipient), the one a package in transit stands for. Its text is in `texts`.
 * @example shippingPush({ package_number: '1Z999', package_status: 'Shipped' }).statusText // 'Shipped'
 */
export function shippingPush(params: ShippingParams, texts: PushTexts = defaultPushTexts): ShippingUpdateMessage {
  const lines = [
    ...(params.fb_first_name ? [texts.greeting(params.fb_first_name)] : []),
    texts.packageStatus(params.package_number, params.package_status),
    ...(params.package_status_description ? [params.package_status_description] : []),
  ];
  return {
    kind: 'shipping_update',
    orderId: numericId(params.package_number),
    status: orderStatus.sent,
    statusText: params.package_status,
    text: lines.join('\n'),
    packageNumber: params.package_number,
    ...(params.detailed_tracking_url ? { trackingUrl: params.detailed_tracking_url } : {}),
    ...(params.image_url ? { imageUrl: params.image_url } : {}),
  };
}
