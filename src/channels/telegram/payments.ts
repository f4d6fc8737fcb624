import type { RawApi } from 'grammy';
import { orderStatus } from '../../commerce/order.js';
import type { OrderId } from '../../core/ids.js';
import type { InvoiceMessage } from '../../core/outbound.js';
import type { Store } from '../../core/store.js';
import { truncate } from './html.js';

/** An order's invoice, as core's `invoice` message says it. */
export type TelegramInvoice = Omit<InvoiceMessage, 'kind' | 'text' | 'intent'>;

type InvoiceParams = Omit<Parameters<RawApi['sendInvoice']>[0], 'chat_id'>;

/**
 * The `sendInvoice` parameters of an order's invoice (all but `chat_id`): title and
 * description cut to Telegram's limits, the payload `order:<id>` that pre-checkout and the
 * successful payment are traced back by, prices in minor units.
 * @example
 * renderInvoice({ orderId: 12, title: 'Order #12', description: '2 items', currency: 'EUR',
 *   lines: [{ label: 'Tea', amount: 1250 }] }, providerToken)
 * // { title: 'Order #12', payload: 'order:12', currency: 'EUR', prices: [{ label: 'Tea', amount: 1250 }], … }
 */
export function renderInvoice(invoice: TelegramInvoice, paymentToken: string): InvoiceParams {
  return {
    title: truncate(invoice.title, 32),
    description: truncate(invoice.description, 255),
    payload: `order:${invoice.orderId}`,
    provider_token: paymentToken,
    currency: invoice.currency.toUpperCase(),
    prices: invoice.lines.map((line) => ({ label: line.label, amount: line.amount })),
    ...(invoice.photoUrl ? { photo_url: invoice.photoUrl } : {}),
  };
}

/**
 * The order an invoice payload names: `order:<id>` (also `order:ORD-<id>`), else null.
 * @example orderIdOfInvoice('order:12') // 12
 */
export function orderIdOfInvoice(payload: string): OrderId | null {
  const match = /^order:(?:[A-Za-z]+-)?(\d{1,15})$/.exec(payload);
  const id = match ? Number(match[1]) : 0;
  return id > 0 ? (id as OrderId) : null;
}

/** What a pre-checkout query asks to be paid. */
export interface PreCheckout {
  readonly invoicePayload: string;
  readonly currency: string;
  readonly totalAmount: number;
}

/**
 * Whether Telegram may take the payment: the order still exists, is neither paid nor
 * cancelled nor refunded, and the amount and currency are the order's. The error text is
 * shown to the customer.
 */
export async function checkPreCheckout(
  query: PreCheckout,
  store: Pick<Store, 'getOrder'>,
): Promise<{ ok: true } | { ok: false; error_message: string }> {
  const id = orderIdOfInvoice(query.invoicePayload);
  const order = id === null ? null : await store.getOrder(id);
  if (!order || order.status === orderStatus.cancelled || order.status === orderStatus.refundIssued) {
    return { ok: false, error_message: 'This order is no longer available.' };
  }
  if (order.paid) return { ok: false, error_message: 'This order is already paid.' };
  if (order.total !== query.totalAmount || order.currency.toUpperCase() !== query.currency.toUpperCase()) {
    return { ok: false, error_message: 'The order total has changed; please ask for a new invoice.' };
  }
  return { ok: true };
}
