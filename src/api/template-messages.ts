import { formatMoney, multiplyMoney, addMoney } from '../commerce/money.js';
import { orderStatus } from '../commerce/order.js';
import type { ReceiptMessage, ShippingUpdateMessage } from '../core/outbound.js';
import { minorUnits } from './amounts.js';
import type { ReceiptParams, ShippingParams } from './schemas.js';

/** A number order id when the merchant's order or package number is one (the message model keeps one). */
const numericId = (text: string): number => (/^\d{1,15}$/.test(text) ? Number(text) : 0);

/**
 * The core receipt of an `Order Receipt Push`: every field mapped, amounts in minor units
 * from their decimal text, and the receipt as plain lines for channels without a receipt
 * template. A left-out subtotal is the items' sum; left-out shipping and tax are 0.
 * @example receiptPush(params, Date.now()).summary.totalCost // 2495 for "total_cost": 24.95
 */
export function receiptPush(params: ReceiptParams, now: number): ReceiptMessage {
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
  const money = (minor: number, code = currency) => formatMoney(minor, code);
  const lines = [
    `Order ${params.order_number}`,
    ...items.map((item) => `${item.quantity} × ${item.title} — ${money(multiplyMoney(item.price, item.quantity), item.currency)}`),
    `Subtotal: ${money(sums.subtotal)}`,
    ...adjustments.map((adjustment) => `${adjustment.name}: −${money(adjustment.amount)}`),
    `Shipping: ${money(sums.shippingCost)}`,
    ...(sums.totalTax > 0 ? [`Tax: ${money(sums.totalTax)}`] : []),
    `Total: ${money(sums.totalCost)}`,
    `For: ${params.recipient_name}`,
    ...(address
      ? [`To: ${[address.street1, address.street2, `${address.postalCode} ${address.city}`, address.state, address.country].filter(Boolean).join(', ')}`]
      : []),
    `Payment: ${params.payment_method}`,
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
 * the recipient), the one a package in transit stands for.
 * @example shippingPush({ package_number: '1Z999', package_status: 'Shipped' }).statusText // 'Shipped'
 */
export function shippingPush(params: ShippingParams): ShippingUpdateMessage {
  const lines = [
    ...(params.fb_first_name ? [`Hi ${params.fb_first_name}!`] : []),
    `Package ${params.package_number}: ${params.package_status}.`,
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
