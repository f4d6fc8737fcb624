import { fallbackTitles, type Button, type Choice, type OutboundMessage, type ProductCard } from '../../core/outbound.js';
import { splitText, truncate } from '../graph/text.js';
import { templateComponents, type DeliveryPlan } from '../graph/window.js';

/** Cloud API limits (channels.md C.6). */
export const whatsappLimits = {
  text: 4_096,
  interactiveBody: 1_024,
  caption: 1_024,
  header: 60,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listRows: 10,
  rowTitle: 24,
  rowId: 200,
  listButton: 20,
  sectionTitle: 24,
  productItems: 30,
  productCards: 10,
} as const;

/** One Cloud API request body (`POST /{phone-number-id}/messages`). */
export type WhatsAppRequest = { messaging_product: 'whatsapp'; recipient_type: 'individual'; type: string } & (
  | { to: string }
  | { recipient: string }
) &
  Record<string, unknown>;

/** The message kinds before the envelope: `type` and its object. */
type Body = { type: string } & Record<string, unknown>;

/** What rendering depends on besides the message. */
export interface WhatsAppRenderOptions {
  /** The catalog products are sent from as product / product-list messages; without it, as cards. */
  readonly catalogId?: string;
}

const phone = /^\d+$/;
const link = /https?:\/\//;

/**
 * A channel-neutral message → Cloud API request bodies, in sending order, within the
 * limits: long texts split, up to 3 choices as reply buttons and more as a list (≤ 10
 * rows), products as single- or multi-product messages from the catalog (≤ 30 items) or,
 * without one, as a card each (image header, text and the card's buttons), the receipt as
 * formatted text, a shipping update with a tracking-link button. The list's button and the
 * link's take the message's titles (`choicesTitle`, `trackingUrlTitle`; ≤ 20 characters),
 * else `fallbackTitles`. A `template` plan renders the approved template instead. A
 * business-scoped user id (not a phone number) is addressed with `recipient` instead of `to`.
 * @example
 * renderWhatsApp({ kind: 'text', text: 'Hi' }, '34600111222', { mode: 'response' })
 * // [{ messaging_product: 'whatsapp', recipient_type: 'individual', to: '34600111222', type: 'text', text: { body: 'Hi', preview_url: false } }]
 */
export function renderWhatsApp(message: OutboundMessage, user: string, plan: DeliveryPlan, options: WhatsAppRenderOptions = {}): WhatsAppRequest[] {
  const envelope = { messaging_product: 'whatsapp' as const, recipient_type: 'individual' as const, ...(phone.test(user) ? { to: user } : { recipient: user }) };
  let bodies: Body[];
  if (plan.mode === 'template') {
    const { name, language } = plan.template;
    bodies = [{ type: 'template', template: { name, language: { code: language }, components: templateComponents(plan.template) } }];
  } else {
    bodies = render(message, options);
  }
  return bodies.map((body) => ({ ...envelope, ...body }));
}

function render(message: OutboundMessage, options: WhatsAppRenderOptions): Body[] {
  switch (message.kind) {
    case 'text': {
      const buttons = message.buttons ?? [];
      const urls = buttons.filter((button): button is Extract<Button, { url: string }> => 'url' in button);
      const choices = [...buttons.filter((button): button is Choice => !('url' in button)), ...(message.quickReplies ?? [])];
      if (choices.length === 0 && urls.length === 1 && urls[0]) return withLink(message.text, urls[0].title, urls[0].url);
      const text = urls.length === 0 ? message.text : `${message.text}\n\n${urls.map((url) => `${url.title}: ${url.url}`).join('\n')}`;
      return withChoices(text, choices, choicesTitleOf(message));
    }
    case 'products':
      return products(message.products, message.text, message.quickReplies ?? [], choicesTitleOf(message), options.catalogId);
    case 'receipt': {
      // The text's first line is the receipt's title: bold, as WhatsApp marks it up.
      const [title = '', ...lines] = message.text.split('\n');
      const body = [`*${title.trim()}*`, ...lines];
      if (message.orderUrl) body.push('', message.orderUrl);
      return texts(body.join('\n'));
    }
    case 'shipping_update':
      if (message.trackingUrl) {
        return withLink(message.text, message.trackingUrlTitle ?? fallbackTitles.trackingUrl, message.trackingUrl, message.imageUrl);
      }
      if (message.imageUrl && message.text.length <= whatsappLimits.caption) return [image(message.imageUrl, message.text)];
      return texts(message.text);
    case 'invoice':
      // No in-chat payment through this channel: the bill as text.
      return texts(message.text);
  }
}

function texts(text: string): Body[] {
  return splitText(text, whatsappLimits.text).map((body) => ({ type: 'text', text: { body, preview_url: link.test(body) } }));
}

/** The title of the button that opens a list of choices: the message's, else in English. */
function choicesTitleOf(message: { readonly choicesTitle?: string | undefined }): string {
  return message.choicesTitle ?? fallbackTitles.choices;
}

/**
 * Text parts; the last one (≤ 1024 with buttons) carries the choices as reply buttons or a
 * list opened by a button titled `listTitle`.
 */
function withChoices(text: string, all: readonly Choice[], listTitle: string, header?: Record<string, unknown>): Body[] {
  const choices = unique(all);
  if (choices.length === 0) return texts(text);
  // Reply buttons need distinct titles; a list only distinct ids.
  const titles = new Set(choices.map((choice) => truncate(choice.title, whatsappLimits.buttonTitle)));
  const buttons = choices.length <= whatsappLimits.buttons && titles.size === choices.length;
  const { before, last } = lastPart(text, whatsappLimits.interactiveBody);
  const action = buttons
    ? {
        buttons: choices.map((choice) => ({
          type: 'reply',
          reply: { id: choice.payload, title: truncate(choice.title, whatsappLimits.buttonTitle) },
        })),
      }
    : {
        button: truncate(listTitle, whatsappLimits.listButton),
        sections: [
          {
            rows: choices.slice(0, whatsappLimits.listRows).map((choice) => ({
              id: choice.payload,
              title: truncate(choice.title, whatsappLimits.rowTitle),
            })),
          },
        ],
      };
  const interactive = { type: buttons ? 'button' : 'list', ...(buttons && header ? { header } : {}), body: { text: last }, action };
  return [...before, { type: 'interactive', interactive }];
}

/** Text parts; the last one (≤ 1024) with a URL button. */
function withLink(text: string, title: string, url: string, imageUrl?: string): Body[] {
  const { before, last } = lastPart(text, whatsappLimits.interactiveBody);
  const interactive = {
    type: 'cta_url',
    ...(imageUrl ? { header: { type: 'image', image: { link: imageUrl } } } : {}),
    body: { text: last },
    action: { name: 'cta_url', parameters: { display_text: truncate(title, whatsappLimits.buttonTitle), url } },
  };
  return [...before, { type: 'interactive', interactive }];
}

function products(
  cards: readonly ProductCard[],
  text: string | undefined,
  quickReplies: readonly Choice[],
  listTitle: string,
  catalogId: string | undefined,
): Body[] {
  const titles = cards.map((card) => card.title).join(', ');
  // With quick replies the text goes last, with them; otherwise it introduces the products.
  const caption = quickReplies.length > 0 ? undefined : text;
  const closing = quickReplies.length > 0 ? withChoices(text ?? titles, quickReplies, listTitle) : [];
  if (catalogId) return [catalogMessage(cards, caption, titles, catalogId), ...closing];
  const intro = caption ? texts(caption) : [];
  return [...intro, ...cards.slice(0, whatsappLimits.productCards).flatMap((product) => card(product, listTitle)), ...closing];
}

function catalogMessage(cards: readonly ProductCard[], caption: string | undefined, titles: string, catalogId: string): Body {
  const first = cards[0];
  if (cards.length === 1 && first) {
    const body = caption ? { body: { text: truncate(caption, whatsappLimits.interactiveBody) } } : {};
    return { type: 'interactive', interactive: { type: 'product', ...body, action: { catalog_id: catalogId, product_retailer_id: retailerId(first) } } };
  }
  const header = truncate((caption ?? titles).split('\n', 1)[0] || titles, whatsappLimits.header);
  const items = cards.slice(0, whatsappLimits.productItems).map((card) => ({ product_retailer_id: retailerId(card) }));
  return {
    type: 'interactive',
    interactive: {
      type: 'product_list',
      header: { type: 'text', text: header },
      body: { text: truncate(caption ?? titles, whatsappLimits.interactiveBody) },
      action: { catalog_id: catalogId, sections: [{ title: truncate(header, whatsappLimits.sectionTitle), product_items: items }] },
    },
  };
}

/** A card without a catalog: the image as header, the text, and the card's choices as buttons. */
function card(product: ProductCard, listTitle: string): Body[] {
  const lines = [`*${product.title}*`, product.priceText];
  if (product.description) lines.push(product.description);
  const text = truncate(lines.join('\n'), whatsappLimits.interactiveBody);
  const choices = product.buttons.filter((button): button is Choice => !('url' in button)).slice(0, whatsappLimits.buttons);
  if (choices.length > 0) {
    return withChoices(text, choices, listTitle, product.imageUrl ? { type: 'image', image: { link: product.imageUrl } } : undefined);
  }
  return product.imageUrl ? [image(product.imageUrl, text)] : texts(text);
}

function image(url: string, caption: string): Body {
  return { type: 'image', image: { link: url, caption: truncate(caption, whatsappLimits.caption) } };
}

/** The catalog's id of a product (`product_retailer_id`): its article (SKU), else its id. */
function retailerId(card: ProductCard): string {
  return card.article ?? card.id;
}

/** Choices with distinct payloads (WhatsApp refuses duplicate ids), within the id limits. */
function unique(choices: readonly Choice[]): Choice[] {
  const payloads = new Set<string>();
  return choices.filter((choice) => {
    if (choice.payload.length > whatsappLimits.rowId || payloads.has(choice.payload)) return false;
    payloads.add(choice.payload);
    return true;
  });
}

function lastPart(text: string, max: number): { before: Body[]; last: string } {
  const parts = splitText(text, whatsappLimits.text);
  const tail = splitText(parts.pop() ?? '', max);
  const last = tail.pop() ?? '';
  return { before: [...parts, ...tail].flatMap((part) => texts(part)), last };
}
