import type { SendContext } from '../../core/channel.js';
import { DeliveryError } from '../../core/errors.js';
import type { OutboundMessage } from '../../core/outbound.js';
import { formatMoney } from '../../commerce/money.js';

/** Messenger's standard messaging window and WhatsApp's customer service window. */
export const messagingWindowMs = 24 * 60 * 60 * 1000;

/** Approved utility templates for the messages that may go out after the window closed. */
export interface TemplateConfig {
  /** The template a receipt goes as: body parameters {{1}} recipient, {{2}} order number, {{3}} total. */
  readonly receipt?: string;
  /** The template a shipping update goes as: body parameters {{1}} order id, {{2}} status, {{3}} tracking link. */
  readonly shippingUpdate?: string;
  /** The templates' language code, e.g. `en_US`. */
  readonly language: string;
}

/** A template message to send: its name, language and body parameters in order. */
export interface TemplateCall {
  readonly name: string;
  readonly language: string;
  readonly parameters: readonly string[];
}

/** How a message may go: free-form as an answer, free-form as news, or only as a template. */
export type DeliveryPlan = { readonly mode: 'response' | 'update' } | { readonly mode: 'template'; readonly template: TemplateCall };

/**
 * Decides how a message may go under the 24-hour window. Inside it (the customer wrote less
 * than 24 h ago) it goes free-form: `update` for `intent: 'update'`, otherwise `response`.
 * When `lastInboundAt` is unknown, an answer is assumed to be inside the window (it answers
 * something the customer just did) and news is assumed outside. Outside, receipts and
 * shipping updates go as their configured template; anything else throws a `blocked`
 * `DeliveryError`, since the platform's policy forbids it.
 * @example
 * planDelivery('messenger', message, { outboxId: 1, attempt: 0, lastInboundAt: Date.now() }, Date.now())
 * // { mode: 'response' }
 */
export function planDelivery(
  channel: string,
  message: OutboundMessage,
  context: SendContext,
  now: number,
  templates?: TemplateConfig,
): DeliveryPlan {
  const update = message.intent === 'update';
  const last = context.lastInboundAt;
  const inside = last === undefined ? !update : now - last < messagingWindowMs;
  if (inside) return { mode: update ? 'update' : 'response' };
  const template = templateFor(message, templates);
  if (template) return { mode: 'template', template };
  throw new DeliveryError(
    `${channel}: outside the 24-hour messaging window, and no template is configured for a ${message.kind} message`,
    { retryable: false, blocked: true },
  );
}

function templateFor(message: OutboundMessage, templates: TemplateConfig | undefined): TemplateCall | undefined {
  if (!templates) return undefined;
  const { language } = templates;
  if (message.kind === 'receipt' && templates.receipt) {
    const total = formatMoney(message.summary.totalCost, message.currency);
    return { name: templates.receipt, language, parameters: [message.recipientName, message.orderNumber, total] };
  }
  if (message.kind === 'shipping_update' && templates.shippingUpdate) {
    const link = message.trackingUrl ?? message.packageNumber ?? message.statusText;
    // A merchant's push may name a package and no order of ours: its first parameter is then the package.
    const reference = message.orderId > 0 ? String(message.orderId) : (message.packageNumber ?? message.statusText);
    return { name: templates.shippingUpdate, language, parameters: [reference, message.statusText, link] };
  }
  return undefined;
}

/** A template's body component with its text parameters, as both Messenger and WhatsApp take it. */
export function templateComponents(template: TemplateCall): { type: 'body'; parameters: { type: 'text'; text: string }[] }[] {
  return [{ type: 'body', parameters: template.parameters.map((text) => ({ type: 'text', text })) }];
}
