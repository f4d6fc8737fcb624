import type { RawApi } from 'grammy';
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';
import { formatMoney } from '../../commerce/money.js';
import { fallbackTitles, type Button, type OutboundMessage, type ProductCard } from '../../core/outbound.js';
import { buttonsOf, callbackData } from './callback-data.js';
import { escapeHtml, truncate } from './html.js';
import { renderInvoice } from './payments.js';

/** Bot API limits the renderer keeps (channels.md A.4, A.5). */
export const telegramLimits = { text: 4_096, caption: 1_024, invoiceTitle: 32, invoiceDescription: 255 } as const;

type Params<M extends 'sendMessage' | 'sendPhoto' | 'sendInvoice'> = Parameters<RawApi[M]>[0];

/** One Bot API call a message turns into. */
export type TelegramCall =
  | { readonly method: 'sendMessage'; readonly payload: Params<'sendMessage'> }
  | { readonly method: 'sendPhoto'; readonly payload: Params<'sendPhoto'> }
  | { readonly method: 'sendInvoice'; readonly payload: Params<'sendInvoice'> };

type Numbered = { readonly button: Button; readonly index: number };

/**
 * A channel-neutral message → Bot API calls, in sending order, in HTML parse mode: a text
 * with an inline keyboard (buttons, then quick replies, packed in short rows); products as
 * photos with a caption (text when there is no image URL), the quick replies on the last;
 * a receipt as one formatted message and a shipping update as text, with the order or
 * tracking link as a URL button (titled by the message, else in English); an invoice as
 * `sendInvoice` when a payment token is given. A payload over 64 bytes becomes a reference
 * into the outbox (`o:<outboxId>:<i>`).
 * @example
 * renderTelegram({ kind: 'text', text: 'Hi <3' }, 123456789, 7)
 * // [{ method: 'sendMessage', payload: { chat_id: 123456789, text: 'Hi &lt;3', parse_mode: 'HTML' } }]
 */
export function renderTelegram(message: OutboundMessage, chatId: number, outboxId: number, paymentToken?: string): TelegramCall[] {
  const numbered: Numbered[] = buttonsOf(message).map((button, index) => ({ button, index }));
  const keyboard = (...groups: Numbered[][]) => markup(groups, outboxId);
  const text = (html: string, reply_markup?: InlineKeyboardMarkup): TelegramCall => ({
    method: 'sendMessage',
    payload: { chat_id: chatId, text: html, parse_mode: 'HTML', ...(reply_markup ? { reply_markup } : {}) },
  });
  switch (message.kind) {
    case 'text': {
      const own = message.buttons?.length ?? 0;
      return [text(escapeHtml(truncate(message.text, telegramLimits.text)), keyboard(numbered.slice(0, own), numbered.slice(own)))];
    }
    case 'products': {
      let next = 0;
      const cards = message.products.map((card) => ({ card, buttons: numbered.slice(next, (next += card.buttons.length)) }));
      const quick = numbered.slice(next);
      const single = cards.length === 1 && message.text ? cards[0] : undefined;
      const calls: TelegramCall[] = [];
      if (message.text && !single) calls.push(text(escapeHtml(truncate(message.text, telegramLimits.text))));
      cards.forEach(({ card, buttons }, i) => {
        const reply_markup = keyboard(buttons, i === cards.length - 1 ? quick : []);
        const caption = single && message.text ? escapeHtml(truncate(message.text, telegramLimits.caption)) : productCaption(card);
        calls.push(
          isWebUrl(card.imageUrl)
            ? { method: 'sendPhoto', payload: { chat_id: chatId, photo: card.imageUrl, caption, parse_mode: 'HTML', ...(reply_markup ? { reply_markup } : {}) } }
            : text(caption, reply_markup),
        );
      });
      return calls;
    }
    case 'receipt': {
      const lines = truncate(message.text, telegramLimits.text).split('\n');
      const total = formatMoney(message.summary.totalCost, message.currency);
      const totalLine = lines.findLastIndex((line, i) => i > 0 && line.includes(total));
      const html = lines.map((line, i) => (i === 0 || i === totalLine ? `<b>${escapeHtml(line)}</b>` : escapeHtml(line))).join('\n');
      return [text(html, urlKeyboard(message.orderUrlTitle ?? fallbackTitles.orderUrl, message.orderUrl))];
    }
    case 'shipping_update': {
      const parcel = message.packageNumber ? `\n<code>${escapeHtml(message.packageNumber)}</code>` : '';
      const track = urlKeyboard(message.trackingUrlTitle ?? fallbackTitles.trackingUrl, message.trackingUrl);
      return [text(`${escapeHtml(truncate(message.text, telegramLimits.text - 100))}${parcel}`, track)];
    }
    case 'invoice':
      // Without a payment provider token the bill is plain text.
      if (!paymentToken) return [text(escapeHtml(truncate(message.text, telegramLimits.text)))];
      return [{ method: 'sendInvoice', payload: { chat_id: chatId, ...renderInvoice(message, paymentToken) } }];
  }
}

/** A product card's caption: the title in bold, the price, the description cut to fit. */
function productCaption(card: ProductCard): string {
  const title = truncate(card.title, 200);
  const room = telegramLimits.caption - title.length - card.priceText.length - 3;
  const description = card.description && room > 1 ? `\n\n${escapeHtml(truncate(card.description, room))}` : '';
  return `<b>${escapeHtml(title)}</b>\n${escapeHtml(card.priceText)}${description}`;
}

/** Each group of buttons starts a new row; a row holds up to three while their titles stay short. */
function markup(groups: Numbered[][], outboxId: number): InlineKeyboardMarkup | undefined {
  const rows: InlineKeyboardButton[][] = [];
  for (const group of groups) {
    let row: InlineKeyboardButton[] = [];
    let width = 0;
    for (const entry of group) {
      if (row.length === 3 || (row.length > 0 && width + entry.button.title.length > 24)) {
        rows.push(row);
        row = [];
        width = 0;
      }
      row.push(inlineButton(entry, outboxId));
      width += entry.button.title.length;
    }
    if (row.length > 0) rows.push(row);
  }
  return rows.length > 0 ? { inline_keyboard: rows } : undefined;
}

function inlineButton({ button, index }: Numbered, outboxId: number): InlineKeyboardButton {
  return 'url' in button ? { text: button.title, url: button.url } : { text: button.title, callback_data: callbackData(button.payload, outboxId, index) };
}

function urlKeyboard(title: string, url: string | undefined): InlineKeyboardMarkup | undefined {
  return isWebUrl(url) ? { inline_keyboard: [[{ text: title, url }]] } : undefined;
}

/** Telegram fetches photos and opens links only from absolute http(s) URLs. */
function isWebUrl(url: string | undefined): url is string {
  return url !== undefined && /^https?:\/\/[^\s/]+/i.test(url) && URL.canParse(url);
}
