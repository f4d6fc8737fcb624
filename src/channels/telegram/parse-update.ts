import { z } from 'zod';
import type { InboundEventInput } from '../../core/events.js';
import { conversationKey, orderKey, type Address } from '../../core/ids.js';
import type { PreCheckout } from './payments.js';
import { orderIdOfInvoice } from './payments.js';

const chat = z.object({ id: z.number() });
const keyboard = z.object({
  inline_keyboard: z.array(z.array(z.object({ text: z.string(), callback_data: z.string().optional() }))),
});
const message = z.object({
  message_id: z.number(),
  date: z.number(),
  chat,
  text: z.string().optional(),
  caption: z.string().optional(),
  entities: z.array(z.object({ type: z.string(), offset: z.number(), length: z.number() })).optional(),
  successful_payment: z
    .object({ currency: z.string(), total_amount: z.number(), invoice_payload: z.string(), telegram_payment_charge_id: z.string() })
    .optional(),
});
/** The part of an `Update` the shop reads (channels.md A.3); unknown fields are dropped. */
const updateSchema = z.object({
  update_id: z.number().int(),
  message: message.optional(),
  callback_query: z
    .object({
      id: z.string(),
      from: z.object({ id: z.number() }),
      message: z.object({ chat, reply_markup: keyboard.optional() }).optional(),
      data: z.string().optional(),
    })
    .optional(),
  pre_checkout_query: z
    .object({ id: z.string(), from: z.object({ id: z.number() }), currency: z.string(), total_amount: z.number(), invoice_payload: z.string() })
    .optional(),
});

/** The update types `parseUpdate` reads: what the bot asks Telegram for, polling or webhook. */
export const allowedUpdates = ['message', 'callback_query', 'pre_checkout_query'] as const;

/** What one update asks of the channel. */
export type TelegramInput =
  | { readonly kind: 'event'; readonly event: InboundEventInput }
  /** A button press: answered at once; its payload event may hold a stored reference to resolve. */
  | { readonly kind: 'callback'; readonly queryId: string; readonly event?: Extract<InboundEventInput, { type: 'payload' }> }
  | { readonly kind: 'pre_checkout'; readonly queryId: string; readonly query: PreCheckout }
  | { readonly kind: 'ignored'; readonly reason?: string };

/**
 * A Bot API `Update` → what it asks for: a text, a `/command` (a `command` event named
 * without the slash, e.g. `start`), a button press (`payload`), a pre-checkout query, or a
 * successful payment (`order_paid` for `order:<id>`). The dedupe id is
 * `tg:<bot id>:<update_id>` (update ids are per bot), a payment's the charge id.
 * @example
 * parseUpdate({ update_id: 1, message: { message_id: 1, date: 1767225600, chat: { id: 42 }, text: 'hi' } }, '7000000001', Date.now())
 * // { kind: 'event', event: { type: 'text', id: 'tg:7000000001:1', key: 'conv:telegram:7000000001:42', text: 'hi', … } }
 */
export function parseUpdate(body: unknown, account: string, now: number): TelegramInput {
  const parsed = updateSchema.safeParse(body);
  if (!parsed.success) return { kind: 'ignored', reason: 'not an update' };
  const update = parsed.data;
  const base = (chatId: number, at: number) => {
    const address: Address = { channel: 'telegram', account, user: String(chatId) };
    return { id: `tg:${account}:${update.update_id}`, key: conversationKey(address), at, address };
  };

  const callback = update.callback_query;
  if (callback) {
    if (callback.data === undefined) return { kind: 'callback', queryId: callback.id };
    const title = callback.message?.reply_markup?.inline_keyboard.flat().find((button) => button.callback_data === callback.data)?.text;
    const event = { ...base(callback.message?.chat.id ?? callback.from.id, now), type: 'payload' as const, payload: callback.data };
    return { kind: 'callback', queryId: callback.id, event: title ? { ...event, title } : event };
  }

  const query = update.pre_checkout_query;
  if (query) {
    return {
      kind: 'pre_checkout',
      queryId: query.id,
      query: { invoicePayload: query.invoice_payload, currency: query.currency, totalAmount: query.total_amount },
    };
  }

  const msg = update.message;
  if (!msg) return { kind: 'ignored' };
  const at = msg.date * 1_000;
  const payment = msg.successful_payment;
  if (payment) {
    const orderId = orderIdOfInvoice(payment.invoice_payload);
    if (orderId === null) return { kind: 'ignored', reason: `a payment for an unknown invoice payload (charge ${payment.telegram_payment_charge_id})` };
    const { address } = base(msg.chat.id, at);
    return {
      kind: 'event',
      event: { type: 'order_paid', id: `tg:pay:${payment.telegram_payment_charge_id}`, key: orderKey(orderId), at, address, orderId, method: 'telegram' },
    };
  }
  const text = msg.text ?? msg.caption;
  if (!text) return { kind: 'ignored' };
  const command = msg.text && msg.entities?.find((entity) => entity.type === 'bot_command' && entity.offset === 0);
  if (command) {
    const name = text.slice(1, command.length).split('@')[0]?.toLowerCase();
    if (name) return { kind: 'event', event: { ...base(msg.chat.id, at), type: 'command', command: name } };
  }
  return { kind: 'event', event: { ...base(msg.chat.id, at), type: 'text', text } };
}
