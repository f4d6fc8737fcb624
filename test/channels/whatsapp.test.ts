import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SendContext } from '../../src/core/channel.js';
import type { DeliveryError } from '../../src/core/errors.js';
import { inboundEventSchema } from '../../src/core/events.js';
import type { Address } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import type { OutboundMessage, ProductCard } from '../../src/core/outbound.js';
import type { ChannelPlugin } from '../../src/channels/plugin.js';
import { createWhatsAppPlugin, parseWhatsAppWebhook, renderWhatsApp, type WhatsAppRequest } from '../../src/channels/whatsapp/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { graphFailures, startFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8'));

const phoneNumberId = '106540352242922';
const customer = '34600111222';
const address = { channel: 'whatsapp', account: phoneNumberId, user: customer };
const key = `conv:whatsapp:${phoneNumberId}:${customer}`;
const now = 1_767_300_000_000;
const parse = (name: string) => parseWhatsAppWebhook(fixture(name), now);

describe('parsing WhatsApp Cloud API webhooks', () => {
  it('turns a text into a text event keyed by phone number id and wa_id, at the platform time', () => {
    expect(parse('whatsapp/text_message')).toEqual({
      events: [
        {
          id: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUMxRjRFNkE3QjhDOUQwRTFGMgA=',
          key,
          at: 1767225600000,
          address,
          type: 'text',
          text: 'Hi, do you ship to Madrid?',
        },
      ],
      ignored: 0,
    });
  });

  it('turns a message about a catalog product into a product question', () => {
    expect(parse('whatsapp/product_question').events).toEqual([
      {
        id: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUQ1RTZGN0E4QjlDMEQxRTJGMwA=',
        key,
        at: 1767225660000,
        address,
        type: 'product_question',
        productRef: 'SKU-LINEN-SHIRT-M',
        text: 'Is this one available in white?',
      },
    ]);
  });

  it('turns a cart into a cart order with exact minor-unit prices', () => {
    expect(parse('whatsapp/order').events).toEqual([
      {
        id: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUU2RjdBOEI5QzBEMUUyRjNBNAA=',
        key,
        at: 1767225720000,
        address,
        type: 'cart_order',
        items: [
          { ref: 'SKU-LINEN-SHIRT-M', quantity: 2, price: 2500, currency: 'USD' },
          { ref: 'SKU-BLUE-MUG', quantity: 1, price: 1250, currency: 'USD' },
        ],
        text: 'Please deliver after 6pm',
      },
    ]);
  });

  it('turns reply-button and list-row taps into payload events with their titles', () => {
    expect(parse('whatsapp/interactive_button_reply').events).toMatchObject([{ type: 'payload', payload: 'confirm:ORD-1001', title: 'Confirm order', at: 1767225780000 }]);
    expect(parse('whatsapp/interactive_list_reply').events).toMatchObject([{ type: 'payload', payload: 'ship:express', title: 'Express shipping' }]);
  });

  it('turns statuses into message statuses deduplicated by id and status', () => {
    expect(parse('whatsapp/status_delivered').events).toEqual([
      {
        id: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBI5QTNDRjI4QTFCMkM0RDVFNkYA:delivered',
        key,
        at: 1767225802000,
        address,
        type: 'message_status',
        messageId: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBI5QTNDRjI4QTFCMkM0RDVFNkYA',
        status: 'delivered',
      },
    ]);
    expect(parse('whatsapp/status_failed').events).toEqual([
      {
        id: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJBQkMxMjNERUY0NTY3ODkwQUIA:failed',
        key,
        at: 1767312000000,
        address,
        type: 'message_status',
        messageId: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJBQkMxMjNERUY0NTY3ODkwQUIA',
        status: 'failed',
        error: '131047 Re-engagement message',
      },
    ]);
  });

  it('counts a value-level error as ignored and reports it', () => {
    const reported: [number, string | undefined][] = [];
    const parsed = parseWhatsAppWebhook(fixture('whatsapp/value_level_error'), now, { platformError: (code, title) => reported.push([code, title]) });
    expect(parsed).toEqual({ events: [], ignored: 1 });
    expect(reported).toEqual([[130429, 'Rate limit hit']]);
  });

  it('produces events the engine accepts', () => {
    const names = ['text_message', 'product_question', 'order', 'interactive_button_reply', 'interactive_list_reply', 'status_delivered', 'status_failed'];
    for (const name of names) {
      for (const event of parse(`whatsapp/${name}`).events) expect(inboundEventSchema.safeParse(event).success).toBe(true);
    }
  });

  const value = (extra: Record<string, unknown>) => ({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId }, ...extra } }] }],
  });
  const message = (extra: Record<string, unknown>) => ({ from: customer, id: `wamid.${Math.random()}`, timestamp: '1767225600', ...extra });

  it('keys a customer without a phone number by the business-scoped user id', () => {
    const parsed = parseWhatsAppWebhook(value({ messages: [{ from_user_id: 'US.13491208655302741918', id: 'wamid.bsuid', timestamp: '1767225600', type: 'text', text: { body: 'hi' } }] }), now);
    expect(parsed.events).toMatchObject([{ key: `conv:whatsapp:${phoneNumberId}:US.13491208655302741918`, address: { user: 'US.13491208655302741918' } }]);
  });

  it('turns a template quick-reply button into a payload event', () => {
    const parsed = parseWhatsAppWebhook(value({ messages: [message({ type: 'button', button: { payload: 'track:7', text: 'Track' } })] }), now);
    expect(parsed.events).toMatchObject([{ type: 'payload', payload: 'track:7', title: 'Track' }]);
  });

  it('reads cart prices through their digits', () => {
    const items = [
      { product_retailer_id: 'A', quantity: 1, item_price: 19.99, currency: 'USD' },
      { product_retailer_id: 'B', quantity: 3, item_price: 0.3, currency: 'EUR' },
      { product_retailer_id: 'C', quantity: 1, item_price: 1999, currency: 'JPY' },
      { product_retailer_id: 'D', quantity: 1, item_price: 7.999, currency: 'USD' },
    ];
    const parsed = parseWhatsAppWebhook(value({ messages: [message({ type: 'order', order: { catalog_id: '1', product_items: items } })] }), now);
    expect(parsed.events).toMatchObject([
      {
        type: 'cart_order',
        items: [
          { ref: 'A', quantity: 1, price: 1999, currency: 'USD' },
          { ref: 'B', quantity: 3, price: 30, currency: 'EUR' },
          { ref: 'C', quantity: 1, price: 1999, currency: 'JPY' },
          { ref: 'D', quantity: 1 },
        ],
      },
    ]);
    const [event] = parsed.events as { items: Record<string, unknown>[] }[];
    expect(event?.items[3]).toEqual({ ref: 'D', quantity: 1 });
  });

  it('ignores and counts unsupported and unknown kinds, played statuses, malformed items and other fields', () => {
    const parsed = parseWhatsAppWebhook(
      {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: phoneNumberId },
                  messages: [
                    message({ type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown' }] }),
                    message({ type: 'sticker', sticker: { id: '1' } }),
                    { type: 'text', text: { body: 'no id' } },
                    message({ type: 'text', text: { body: 'kept' } }),
                  ],
                  statuses: [{ id: 'wamid.x', status: 'played', timestamp: '1', recipient_id: customer }],
                },
              },
              { field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } },
            ],
          },
        ],
      },
      now,
    );
    expect(parsed.ignored).toBe(5);
    expect(parsed.events).toMatchObject([{ type: 'text', text: 'kept' }]);
  });

  it('ignores a body of neither shape, without throwing', () => {
    expect(parseWhatsAppWebhook({ object: 'page', entry: [] }, now)).toEqual({ events: [], ignored: 1 });
    expect(parseWhatsAppWebhook(null, now)).toEqual({ events: [], ignored: 1 });
    expect(parseWhatsAppWebhook({ hello: 'world' }, now)).toEqual({ events: [], ignored: 1 });
  });
});

describe('parsing WhatsApp On-Premises webhooks', () => {
  it('reads a top-level message under the configured account', () => {
    expect(parseWhatsAppWebhook(fixture('whatsapp-onprem/text_message'), now, { onPremAccount: phoneNumberId })).toEqual({
      events: [{ id: 'ABGGNGYAERFfAgo-sFmKz9gBrQ3i', key, at: 1767225600000, address, type: 'text', text: 'Hi, do you ship to Madrid?' }],
      ignored: 0,
    });
  });

  it('uses the account "onprem" when none is configured', () => {
    expect(parseWhatsAppWebhook(fixture('whatsapp-onprem/text_message'), now).events).toMatchObject([{ key: `conv:whatsapp:onprem:${customer}` }]);
  });

  it('reads top-level statuses, with or without pricing', () => {
    expect(parseWhatsAppWebhook(fixture('whatsapp-onprem/status_read'), now, { onPremAccount: phoneNumberId }).events).toEqual([
      { id: 'gBEGNGYAERFfAglyX9BfV7LpC8k:read', key, at: 1767225810000, address, type: 'message_status', messageId: 'gBEGNGYAERFfAglyX9BfV7LpC8k', status: 'read' },
    ]);
    expect(parseWhatsAppWebhook(fixture('whatsapp-onprem/status_sent_with_pricing'), now).events).toMatchObject([
      { id: 'gBEGNGYAERFfAglyX9BfV7LpC8k:sent', status: 'sent', at: 1767225800000 },
    ]);
  });
});

const card = (i: number, extra: Partial<ProductCard> = {}): ProductCard => ({
  id: `p${i}`,
  article: `SKU-${i}`,
  title: `Product ${i}`,
  description: 'Soft and light.',
  price: 2500,
  currency: 'USD',
  priceText: '$25.00',
  imageUrl: `https://shop.example/img/${i}.png`,
  available: true,
  buttons: [
    { title: 'Add to cart', payload: `add:p${i}` },
    { title: 'Details', payload: `product:p${i}` },
  ],
  ...extra,
});

const response = { mode: 'response' } as const;
const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: customer };
const interactiveOf = (request: WhatsAppRequest | undefined) => request?.['interactive'] as Record<string, unknown> & { action: Record<string, unknown> };

describe('rendering for WhatsApp', () => {
  it('sends a text with its envelope, split above 4096 characters', () => {
    expect(renderWhatsApp({ kind: 'text', text: 'Hi' }, customer, response)).toEqual([{ ...envelope, type: 'text', text: { body: 'Hi', preview_url: false } }]);
    const long = renderWhatsApp({ kind: 'text', text: 'word '.repeat(2000).trim() }, customer, response);
    expect(long.length).toBe(3);
    for (const request of long) expect((request['text'] as { body: string }).body.length).toBeLessThanOrEqual(4096);
  });

  it('addresses a business-scoped user id with recipient instead of to', () => {
    const [request] = renderWhatsApp({ kind: 'text', text: 'Hi' }, 'US.13491208655302741918', response);
    expect(request).toMatchObject({ recipient: 'US.13491208655302741918' });
    expect(request).not.toHaveProperty('to');
  });

  it('turns up to 3 choices into reply buttons with titles of at most 20 characters', () => {
    const [request] = renderWhatsApp(
      { kind: 'text', text: 'Which size?', buttons: [{ title: 'Small (S), fits tight', payload: 'size:S' }], quickReplies: [{ title: 'M', payload: 'size:M' }, { title: 'L', payload: 'size:L' }] },
      customer,
      response,
    );
    expect(request).toEqual({
      ...envelope,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Which size?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'size:S', title: 'Small (S), fits tig…' } },
            { type: 'reply', reply: { id: 'size:M', title: 'M' } },
            { type: 'reply', reply: { id: 'size:L', title: 'L' } },
          ],
        },
      },
    });
  });

  it('uses a list when button titles would not be distinct once cut to 20 characters', () => {
    const [request] = renderWhatsApp(
      { kind: 'text', text: 'Edit', quickReplies: [{ title: 'Edit Ethiopia Yirgacheffe, 250 g', payload: 'edit:a' }, { title: 'Edit Ethiopia Yirgacheffe, 1 kg', payload: 'edit:b' }] },
      customer,
      response,
    );
    expect(interactiveOf(request)['type']).toBe('list');
  });

  it('turns more choices into a list of at most 10 rows with titles of at most 24 characters', () => {
    const quickReplies = Array.from({ length: 12 }, (_, i) => ({ title: `Category number ${i} of the shop`, payload: `cat:${i}` }));
    const [request] = renderWhatsApp({ kind: 'text', text: 'Browse', quickReplies }, customer, response);
    const interactive = interactiveOf(request);
    expect(interactive['type']).toBe('list');
    const rows = (interactive.action['sections'] as { rows: { id: string; title: string }[] }[])[0]?.rows ?? [];
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row.title.length).toBeLessThanOrEqual(24);
    expect(rows[0]).toEqual({ id: 'cat:0', title: 'Category number 0 of th…' });
  });

  it('sends one catalog product as a single-product message', () => {
    const [request] = renderWhatsApp({ kind: 'products', text: 'Here it is', products: [card(1)] }, customer, response, { catalogId: '194836987003835' });
    expect(interactiveOf(request)).toEqual({ type: 'product', body: { text: 'Here it is' }, action: { catalog_id: '194836987003835', product_retailer_id: 'SKU-1' } });
  });

  it('sends several catalog products as a product list of at most 30 items in sections', () => {
    const products = Array.from({ length: 35 }, (_, i) => card(i));
    const [request] = renderWhatsApp({ kind: 'products', text: 'Summer picks', products }, customer, response, { catalogId: '194836987003835' });
    const interactive = interactiveOf(request);
    expect(interactive['type']).toBe('product_list');
    expect(interactive['header']).toEqual({ type: 'text', text: 'Summer picks' });
    expect(interactive['body']).toEqual({ text: 'Summer picks' });
    const sections = interactive.action['sections'] as { title: string; product_items: { product_retailer_id: string }[] }[];
    expect(interactive.action['catalog_id']).toBe('194836987003835');
    expect(sections).toHaveLength(1);
    expect(sections[0]?.title).toBe('Summer picks');
    expect(sections[0]?.product_items).toHaveLength(30);
    expect(sections[0]?.product_items[0]).toEqual({ product_retailer_id: 'SKU-0' });
  });

  it('without a catalog, shows each product with its image, text and buttons', () => {
    const requests = renderWhatsApp({ kind: 'products', products: [card(1), card(2, { buttons: [] }), card(3, { buttons: [], imageUrl: undefined })] }, customer, response);
    expect(requests).toHaveLength(3);
    expect(interactiveOf(requests[0])).toEqual({
      type: 'button',
      header: { type: 'image', image: { link: 'https://shop.example/img/1.png' } },
      body: { text: '*Product 1*\n$25.00\nSoft and light.' },
      action: {
        buttons: [
          { type: 'reply', reply: { id: 'add:p1', title: 'Add to cart' } },
          { type: 'reply', reply: { id: 'product:p1', title: 'Details' } },
        ],
      },
    });
    expect(requests[1]).toMatchObject({ type: 'image', image: { link: 'https://shop.example/img/2.png', caption: '*Product 2*\n$25.00\nSoft and light.' } });
    expect(requests[2]).toMatchObject({ type: 'text', text: { body: '*Product 3*\n$25.00\nSoft and light.' } });
  });

  it('puts the quick replies of a products message after the products, with its text', () => {
    const requests = renderWhatsApp(
      { kind: 'products', text: 'Anything else?', products: [card(1)], quickReplies: [{ title: 'Cart', payload: 'cart' }] },
      customer,
      response,
      { catalogId: '1' },
    );
    expect(requests.map((request) => interactiveOf(request)['type'])).toEqual(['product', 'button']);
    expect(interactiveOf(requests[0])).not.toHaveProperty('body');
    expect(interactiveOf(requests[1])['body']).toEqual({ text: 'Anything else?' });
  });

  const receipt: Extract<OutboundMessage, { kind: 'receipt' }> = {
    kind: 'receipt',
    orderId: 1001,
    orderNumber: 'ORD-1001',
    recipientName: 'Ana Lopez',
    currency: 'USD',
    paymentMethod: 'Cash on delivery',
    orderUrl: 'https://shop.example.com/orders/ORD-1001',
    timestamp: 1767225700,
    delivery: 'shipping',
    items: [{ title: 'Linen shirt (M)', quantity: 2, price: 2500, currency: 'USD' }],
    summary: { subtotal: 5000, shippingCost: 495, totalTax: 0, totalCost: 5495 },
    adjustments: [],
    text: 'Order #1001\n2 × Linen shirt (M) — $50.00\nShipping: $4.95\nTotal: $54.95',
  };

  it('sends a receipt as its text with the title in bold and the order link', () => {
    expect(renderWhatsApp(receipt, customer, response)).toEqual([
      {
        ...envelope,
        type: 'text',
        text: {
          body: '*Order #1001*\n2 × Linen shirt (M) — $50.00\nShipping: $4.95\nTotal: $54.95\n\nhttps://shop.example.com/orders/ORD-1001',
          preview_url: true,
        },
      },
    ]);
  });

  it('sends a shipping update with a tracking-link button', () => {
    const [request] = renderWhatsApp(
      { kind: 'shipping_update', orderId: 7, status: 70, statusText: 'Sent', text: 'Your order 7 is on its way.', trackingUrl: 'https://track.example/7' },
      customer,
      response,
    );
    expect(interactiveOf(request)).toEqual({
      type: 'cta_url',
      body: { text: 'Your order 7 is on its way.' },
      action: { name: 'cta_url', parameters: { display_text: 'Track package', url: 'https://track.example/7' } },
    });
  });

  describe('the titles of the list and tracking buttons', () => {
    const choices = ['Café', 'Thé', 'Accessoires', 'Menu'].map((title) => ({ title, payload: title.toLowerCase() }));
    const menu: OutboundMessage = { kind: 'text', text: 'Que cherchez-vous ?', quickReplies: choices };
    const picks: OutboundMessage = { kind: 'products', text: 'Autre chose ?', products: [card(1)], quickReplies: choices };
    const shipped: OutboundMessage = {
      kind: 'shipping_update',
      orderId: 7,
      status: 70,
      statusText: 'en route',
      text: 'Votre commande n° 7 est en route.',
      trackingUrl: 'https://track.example/7',
    };
    const listButtonOf = (request: WhatsAppRequest | undefined) => interactiveOf(request).action['button'];
    const linkTitleOf = (message: OutboundMessage) =>
      (interactiveOf(renderWhatsApp(message, customer, response)[0]).action['parameters'] as { display_text: string }).display_text;

    it('are the message\'s own, cut to 20 characters', () => {
      expect(listButtonOf(renderWhatsApp({ ...menu, choicesTitle: 'Choisir' }, customer, response)[0])).toBe('Choisir');
      expect(listButtonOf(renderWhatsApp({ ...menu, choicesTitle: 'Voir toutes les options' }, customer, response)[0])).toBe('Voir toutes les opt…');
      expect(listButtonOf(renderWhatsApp({ ...picks, choicesTitle: 'Choisir' }, customer, response, { catalogId: '1' })[1])).toBe('Choisir');
      expect(linkTitleOf({ ...shipped, trackingUrlTitle: 'Suivre le colis' })).toBe('Suivre le colis');
      expect(linkTitleOf({ ...shipped, trackingUrlTitle: 'Suivre mon colis en temps réel' })).toBe('Suivre mon colis en…');
    });

    it('are "Choose" and "Track package" for a message that carries none', () => {
      expect(listButtonOf(renderWhatsApp(menu, customer, response)[0])).toBe('Choose');
      expect(listButtonOf(renderWhatsApp(picks, customer, response, { catalogId: '1' })[1])).toBe('Choose');
      expect(linkTitleOf(shipped)).toBe('Track package');
    });
  });

  it('renders a template with its body parameters', () => {
    expect(renderWhatsApp(receipt, customer, { mode: 'template', template: { name: 'order_receipt', language: 'es', parameters: ['Ana', 'ORD-1001'] } })).toEqual([
      {
        ...envelope,
        type: 'template',
        template: { name: 'order_receipt', language: { code: 'es' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'ORD-1001' }] }] },
      },
    ]);
  });
});

describe('sending through the Cloud API', () => {
  let graph: FakeGraphApi;
  let plugin: ChannelPlugin;
  const to: Address = address;
  const fresh = (): SendContext => ({ outboxId: 1, attempt: 0, lastInboundAt: Date.now() - 60_000 });
  const stale: SendContext = { outboxId: 2, attempt: 0, lastInboundAt: Date.now() - 25 * 60 * 60 * 1000 };
  const deps = { store: createMemoryStore(), logger: silentLogger };
  const shipping: OutboundMessage = { kind: 'shipping_update', orderId: 7, status: 70, statusText: 'Sent', text: 'On its way', trackingUrl: 'https://track.example/7', intent: 'update' };

  beforeAll(async () => {
    graph = await startFakeGraphApi({ whatsappToken: 'wa-token' });
    plugin = createWhatsAppPlugin(
      {
        appSecret: 'test_app_secret_123',
        graphApiUrl: graph.url,
        token: 'wa-token',
        phoneNumberId,
        catalogId: '194836987003835',
        templates: { shippingUpdate: 'order_shipped', language: 'en_US' },
      },
      deps,
    );
  });
  afterAll(async () => {
    await plugin.close?.();
    await graph.close();
  });
  beforeEach(() => graph.reset());

  it('answers messages[0].id, posting to the phone number with a Bearer token', async () => {
    const result = await plugin.channel.send(to, { kind: 'text', text: 'Hola Ana' }, fresh());
    const [request] = graph.requests;
    expect(request).toMatchObject({ kind: 'whatsapp', status: 200, path: `${new URL(graph.url).pathname}/${phoneNumberId}/messages` });
    expect(request?.headers.authorization).toBe('Bearer wa-token');
    expect(result).toEqual({ platformId: (request?.answer as { messages: { id: string }[] }).messages[0]?.id });
  });

  it('sends product lists, lists and link buttons the Cloud API accepts', async () => {
    await plugin.channel.send(to, { kind: 'products', text: 'Picks', products: Array.from({ length: 40 }, (_, i) => card(i)) }, fresh());
    await plugin.channel.send(to, { kind: 'text', text: 'Pick', quickReplies: Array.from({ length: 11 }, (_, i) => ({ title: `Choice ${i}`, payload: `c${i}` })) }, fresh());
    await plugin.channel.send(to, shipping, fresh());
    expect(graph.requests.map((request) => request.status)).toEqual([200, 200, 200]);
  });

  it('throws a retryable error with the wait hint on a 429, and on a 500', async () => {
    graph.fail(graphFailures.rateLimited(4));
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: true, retryAfterMs: 4_000 } });
    graph.fail(graphFailures.serverError());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: true } });
    graph.fail(graphFailures.whatsappThroughput());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: true, platformCode: 130429 } });
  });

  it('throws a permanent error for an undeliverable or unsupported message', async () => {
    graph.fail(graphFailures.undeliverable());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: false, platformCode: 131026 } });
    graph.fail(graphFailures.unsupportedType());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: false, platformCode: 131051 } });
  });

  it('records a re-engagement error as blocked', async () => {
    graph.fail(graphFailures.reengagement());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: false, blocked: true, platformCode: 131047 } });
  });

  it('marks the channel unauthorized when the token is refused', async () => {
    const wrong = createWhatsAppPlugin({ graphApiUrl: graph.url, token: 'expired', phoneNumberId }, deps);
    await expect(wrong.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: false, unauthorized: true } });
    await wrong.close?.();
  });

  it('blocks a free-form message outside the window without calling the platform', async () => {
    const error: unknown = await plugin.channel.send(to, { kind: 'text', text: 'Still there?' }, stale).catch((caught: unknown) => caught);
    expect((error as DeliveryError).delivery).toMatchObject({ retryable: false, blocked: true });
    expect(graph.requests).toHaveLength(0);
  });

  it('sends a shipping update outside the window as its template', async () => {
    await plugin.channel.send(to, shipping, stale);
    expect(graph.requests[0]).toMatchObject({
      status: 200,
      body: {
        type: 'template',
        template: {
          name: 'order_shipped',
          language: { code: 'en_US' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: '7' }, { type: 'text', text: 'Sent' }, { type: 'text', text: 'https://track.example/7' }] }],
        },
      },
    });
  });
});

describe('the WhatsApp webhook', () => {
  const plugin = createWhatsAppPlugin(
    { appSecret: 'test_app_secret_123', verifyToken: 'verify-me', graphApiUrl: 'http://127.0.0.1:9/v21.0', token: 't', phoneNumberId },
    { store: createMemoryStore(), logger: silentLogger },
  );
  const webhook = plugin.webhook!;
  const vector = fixture('whatsapp/signature_vector') as { raw_body: string; header_value: string };

  it('is named whatsapp and acknowledges with OK', () => {
    expect(webhook.name).toBe('whatsapp');
    expect(webhook.ack).toBe('OK');
  });

  it('verifies the signed test vector and parses it', () => {
    expect(webhook.verify({ rawBody: Buffer.from(vector.raw_body, 'utf8'), headers: { 'x-hub-signature-256': vector.header_value } })).toBe(true);
    expect(webhook.parse(JSON.parse(vector.raw_body), now).events).toMatchObject([{ id: 'wamid.SIGTEST0001', text: '¿Tienen envío a Madrid?' }]);
  });

  it('reads On-Premises bodies under the configured phone number id', () => {
    expect(webhook.parse(fixture('whatsapp-onprem/text_message'), now).events).toMatchObject([{ key }]);
  });

  it('answers the subscription handshake', () => {
    expect(webhook.verifyChallenge({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': 'c' })).toBe('c');
  });
});


