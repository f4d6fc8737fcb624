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
 * What the customer reads in Telegram's payment form when the payment is refused. A shop
 * rewords or translates them by passing its own to `createTelegramPlugin` (`preCheckoutTexts`).
 */
export interface PreCheckoutTexts {
  /** The order is gone, cancelled or refunded. */
  readonly unavailable: string;
  readonly alreadyPaid: string;
  /** The invoice's amount or currency is no longer the order's. */
  readonly totalChanged: string;
  /** The bot has no payment provider token. */
  readonly paymentsUnavailable: string;
  /** The order could not be checked just now. */
  readonly tryAgain: string;
}

/** The English refusals a pre-checkout query is answered with unless the shop passes its own. */
export const defaultPreCheckoutTexts: PreCheckoutTexts = {
  unavailable: 'This order is no longer available.',
  alreadyPaid: 'This order is already paid.',
  totalChanged: 'The order total has changed; please ask for a new invoice.',
  paymentsUnavailable: 'Payments are not available.',
  tryAgain: 'Please try again in a moment.',
};

/**
 * Whether Telegram may take the payment: the order still exists, is neither paid nor
 * cancelled nor refunded, and the amount and currency are the order's. The error text,
 * from `texts`, is shown to the customer.
 * @example
 * await checkPreCheckout(query, store, { ...defaultPreCheckoutTexts, alreadyPaid: 'Diese Bestellung ist schon bezahlt.' })
 * // { ok: false, error_message: 'Diese Bestellung ist schon bezahlt.' } for a paid order
 */
export async function checkPreCheckout(
  query: PreCheckout,
  store: Pick<Store, 'getOrder'>,
  texts: PreCheckoutTexts = defaultPreCheckoutTexts,
): Promise<{ ok: true } | { ok: false; error_message: string }> {
  const id = orderIdOfInvoice(query.invoicePayload);
  const order = id === null ? null : await store.getOrder(id);
  if (!order || order.status === orderStatus.cancelled || order.status === orderStatus.refundIssued) {
    return { ok: false, error_message: texts.unavailable };
  }
  if (order.paid) return { ok: false, error_message: texts.alreadyPaid };
  if (order.total !== query.totalAmount || order.currency.toUpperCase() !== query.currency.toUpperCase()) {
    return { ok: false, error_message: texts.totalChanged };
  }
  return { ok: true };
}
