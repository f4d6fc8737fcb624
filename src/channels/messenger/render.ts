import { fallbackTitles, type Button, type Choice, type OutboundMessage, type ProductCard } from '../../core/outbound.js';
import { toDecimal } from '../../commerce/money.js';
import { splitText, truncate } from '../graph/text.js';
import { templateComponents, type DeliveryPlan } from '../graph/window.js';

/** Send API limits (channels.md B.5). */
export const messengerLimits = {
  text: 2_000,
  buttonTemplateText: 640,
  quickReplies: 13,
  quickReplyTitle: 20,
  payload: 1_000,
  buttons: 3,
  buttonTitle: 20,
  genericElements: 10,
  elementTitle: 80,
  elementSubtitle: 80,
  receiptElements: 100,
} as const;

type SendButton = { type: 'postback'; title: string; payload: string } | { type: 'web_url'; title: string; url: string };
type QuickReply = { content_type: 'text'; title: string; payload: string };
type Attachment = { type: 'template'; payload: Record<string, unknown> & { template_type: string } };
type Message = { text: string; quick_replies?: QuickReply[] } | { attachment: Attachment; quick_replies?: QuickReply[] };

/** One Send API request body (`POST /me/messages`). */
export type MessengerRequest =
  | { recipient: { id: string }; messaging_type: 'RESPONSE' | 'UPDATE'; message: Message }
  | {
      recipient: { id: string };
      messaging_type: 'UTILITY';
      template: { name: string; language: { code: string }; components: ReturnType<typeof templateComponents> };
    };

/**
 * A channel-neutral message → Send API request bodies, in sending order, within the
 * platform's limits: long texts split at word boundaries, buttons as a button template
 * (≤ 3), quick replies on the last part (≤ 13, titles ≤ 20), products as a generic template
 * (≤ 10 cards), a receipt as the receipt template (amounts as exact decimals), a shipping
 * update as a button template with the tracking link. A `template` plan renders the
 * utility template instead.
 * @example
 * renderMessenger({ kind: 'text', text: 'Hi' }, '6543210987654321', { mode: 'response' })
 * // [{ recipient: { id: '6543210987654321' }, messaging_type: 'RESPONSE', message: { text: 'Hi' } }]
 */
export function renderMessenger(message: OutboundMessage, psid: string, plan: DeliveryPlan): MessengerRequest[] {
  const recipient = { id: psid };
  if (plan.mode === 'template') {
    const { name, language } = plan.template;
    return [
      { recipient, messaging_type: 'UTILITY', template: { name, language: { code: language }, components: templateComponents(plan.template) } },
    ];
  }
  const messaging_type = plan.mode === 'update' ? 'UPDATE' : 'RESPONSE';
  return messages(message).map((body) => ({ recipient, messaging_type, message: body }));
}

function messages(message: OutboundMessage): Message[] {
  switch (message.kind) {
    case 'text':
      return withQuickReplies(textWithButtons(message.text, sendButtons(message.buttons ?? [])), message.quickReplies);
    case 'products': {
      const carousel: Message = { attachment: template({ template_type: 'generic', elements: message.products.slice(0, messengerLimits.genericElements).map(element) }) };
      const intro = message.text ? splitText(message.text, messengerLimits.text).map((text) => ({ text })) : [];
      return withQuickReplies([...intro, carousel], message.quickReplies);
    }
    case 'receipt':
      return [{ attachment: template(receipt(message)) }];
    case 'shipping_update': {
      const title = message.trackingUrlTitle ?? fallbackTitles.trackingUrl;
      return textWithButtons(message.text, message.trackingUrl ? sendButtons([{ title, url: message.trackingUrl }]) : []);
    }
    case 'invoice':
      // Messenger has no in-chat payment here: the bill as text.
      return textWithButtons(message.text, []);
  }
}

/** Text parts; with buttons, the last part (≤ 640 characters) is a button template. */
function textWithButtons(text: string, buttons: SendButton[]): Message[] {
  const parts = splitText(text, messengerLimits.text);
  if (buttons.length === 0) return parts.map((part) => ({ text: part }));
  const last = splitText(parts.pop() ?? '', messengerLimits.buttonTemplateText);
  const final = last.pop() ?? '';
  return [
    ...[...parts, ...last].map((part) => ({ text: part })),
    { attachment: template({ template_type: 'button', text: final, buttons }) },
  ];
}

function withQuickReplies(parts: Message[], choices: readonly Choice[] | undefined): Message[] {
  const quick = (choices ?? [])
    .filter((choice) => choice.payload.length <= messengerLimits.payload)
    .slice(0, messengerLimits.quickReplies)
    .map((choice): QuickReply => ({ content_type: 'text', title: truncate(choice.title, messengerLimits.quickReplyTitle), payload: choice.payload }));
  const last = parts[parts.length - 1];
  if (quick.length > 0 && last) parts[parts.length - 1] = { ...last, quick_replies: quick };
  return parts;
}

/** Buttons within the limits: a payload too long to send whole is dropped, never cut. */
function sendButtons(buttons: readonly Button[]): SendButton[] {
  const out: SendButton[] = [];
  for (const button of buttons) {
    if (out.length === messengerLimits.buttons) break;
    const title = truncate(button.title, messengerLimits.buttonTitle);
    if ('url' in button) out.push({ type: 'web_url', title, url: button.url });
    else if (button.payload.length <= messengerLimits.payload) out.push({ type: 'postback', title, payload: button.payload });
  }
  return out;
}

function element(card: ProductCard): Record<string, unknown> {
  const buttons = sendButtons(card.buttons);
  const subtitle = card.description ? `${card.priceText} · ${card.description}` : card.priceText;
  return {
    title: truncate(card.title, messengerLimits.elementTitle),
    subtitle: truncate(subtitle, messengerLimits.elementSubtitle),
    ...(card.imageUrl ? { image_url: card.imageUrl } : {}),
    ...(buttons.length > 0 ? { buttons } : {}),
  };
}

function receipt(message: Extract<OutboundMessage, { kind: 'receipt' }>): Attachment['payload'] {
  const { currency, summary, address } = message;
  const money = (minor: number, code = currency): number => Number(toDecimal(minor, code));
  return {
    template_type: 'receipt',
    sharable: false,
    recipient_name: message.recipientName,
    order_number: message.orderNumber,
    currency,
    payment_method: message.paymentMethod,
    ...(message.orderUrl ? { order_url: message.orderUrl } : {}),
    timestamp: String(message.timestamp),
    ...(address
      ? {
          address: {
            street_1: address.street1,
            street_2: address.street2 ?? '',
            city: address.city,
            postal_code: address.postalCode,
            state: address.state,
            country: address.country,
          },
        }
      : {}),
    summary: {
      subtotal: money(summary.subtotal),
      shipping_cost: money(summary.shippingCost),
      total_tax: money(summary.totalTax),
      total_cost: money(summary.totalCost),
    },
    ...(message.adjustments.length > 0
      ? { adjustments: message.adjustments.map((adjustment) => ({ name: adjustment.name, amount: money(adjustment.amount) })) }
      : {}),
    elements: message.items.slice(0, messengerLimits.receiptElements).map((item) => ({
      title: item.title,
      ...(item.subtitle ? { subtitle: item.subtitle } : {}),
      quantity: item.quantity,
      price: money(item.price, item.currency),
      currency: item.currency,
      ...(item.imageUrl ? { image_url: item.imageUrl } : {}),
    })),
  };
}

function template(payload: Attachment['payload']): Attachment {
  return { type: 'template', payload };
}
