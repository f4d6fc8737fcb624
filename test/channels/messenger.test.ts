import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SendContext } from '../../src/core/channel.js';
import { DeliveryError } from '../../src/core/errors.js';
import { inboundEventSchema } from '../../src/core/events.js';
import type { Address } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import type { OutboundMessage, ProductCard } from '../../src/core/outbound.js';
import { createMessengerPlugin, parseMessengerWebhook, renderMessenger, type MessengerRequest } from '../../src/channels/messenger/index.js';
import type { ChannelPlugin } from '../../src/channels/plugin.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { graphFailures, startFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/messenger/${name}.json`, import.meta.url), 'utf8'));

const page = '106540352242922';
const psid = '6543210987654321';
const address = { channel: 'messenger', account: page, user: psid };
const key = `conv:messenger:${page}:${psid}`;
const now = 1_767_300_000_000;

describe('parsing Messenger webhooks', () => {
  it('turns a text message into a text event keyed by page and PSID, at the platform time', () => {
    expect(parseMessengerWebhook(fixture('text_message'), now)).toEqual({
      events: [
        {
          id: 'm_Q1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ0123456789abcdef',
          key,
          at: 1767225600187,
          address,
          type: 'text',
          text: 'Hi! Is the linen shirt available in size M?',
        },
      ],
      ignored: 0,
    });
  });

  it('turns a quick reply into a payload event with its title', () => {
    expect(parseMessengerWebhook(fixture('quick_reply'), now).events).toEqual([
      {
        id: 'm_R2b3C4d5E6f7G8h9I0j1KlMnOpQrStUvWxYz1234567890abcdef',
        key,
        at: 1767225660721,
        address,
        type: 'payload',
        payload: 'SIZE:SKU-LINEN-SHIRT:M',
        title: 'Size M',
      },
    ]);
  });

  it('turns a postback into a payload event deduplicated by its mid', () => {
    expect(parseMessengerWebhook(fixture('postback'), now).events).toEqual([
      {
        id: 'm_S3c4D5e6F7g8H9i0J1k2LmNoPqRsTuVwXyZa1234567890abcdef',
        key,
        at: 1767225720101,
        address,
        type: 'payload',
        payload: 'BUY:SKU-LINEN-SHIRT:M:1',
        title: 'Buy now',
      },
    ]);
  });

  it('turns a delivery into one status per mid, and a read into one watermark status', () => {
    expect(parseMessengerWebhook(fixture('delivery_and_read'), now)).toEqual({
      events: [
        {
          id: 'm_T4d5E6f7G8h9I0j1K2l3MnOpQrStUvWxYzAb1234567890abcdef:delivered',
          key,
          at: 1767225800500,
          address,
          type: 'message_status',
          messageId: 'm_T4d5E6f7G8h9I0j1K2l3MnOpQrStUvWxYzAb1234567890abcdef',
          status: 'delivered',
        },
        {
          id: `messenger:read:${page}:${psid}:1767225799000`,
          key,
          at: 1767225805600,
          address,
          type: 'message_status',
          upTo: 1767225799000,
          status: 'read',
        },
      ],
      ignored: 0,
    });
  });

  it('produces events the engine accepts', () => {
    for (const name of ['text_message', 'quick_reply', 'postback', 'delivery_and_read']) {
      for (const event of parseMessengerWebhook(fixture(name), now).events) {
        expect(inboundEventSchema.safeParse(event).success).toBe(true);
      }
    }
  });

  const envelope = (...messaging: unknown[]) => ({ object: 'page', entry: [{ id: page, time: now, messaging }] });
  const from = { sender: { id: psid }, recipient: { id: page }, timestamp: 1767225600000 };

  it('ignores and counts echoes, attachments without text, unknown kinds and malformed events', () => {
    const parsed = parseMessengerWebhook(
      envelope(
        { ...from, message: { mid: 'm_echo', text: 'our own reply', is_echo: true } },
        { ...from, message: { mid: 'm_image', attachments: [{ type: 'image', payload: { url: 'https://x/y.png' } }] } },
        { ...from, reaction: { mid: 'm_1', action: 'react', reaction: 'love' } },
        { sender: {}, recipient: { id: page }, message: { mid: 'm_2', text: 'no sender id' } },
        'not an object',
        { ...from, message: { mid: 'm_ok', text: 'hello' } },
      ),
      now,
    );
    expect(parsed.ignored).toBe(5);
    expect(parsed.events).toMatchObject([{ id: 'm_ok', type: 'text', text: 'hello' }]);
  });

  it('ignores a body that is not a Page webhook, without throwing', () => {
    expect(parseMessengerWebhook({ object: 'instagram', entry: [] }, now)).toEqual({ events: [], ignored: 1 });
    expect(parseMessengerWebhook(null, now)).toEqual({ events: [], ignored: 1 });
    expect(parseMessengerWebhook('{"object":"page"}', now)).toEqual({ events: [], ignored: 1 });
  });

  it('gives an event without a mid a stable dedupe id', () => {
    const body = envelope({ ...from, postback: { title: 'Get Started', payload: 'GET_STARTED' } });
    const first = parseMessengerWebhook(body, now).events[0];
    const again = parseMessengerWebhook(body, now + 5_000).events[0];
    expect(first?.id).toMatch(/^messenger:/);
    expect(again?.id).toBe(first?.id);
  });

  it('reads every entry and every event of a batch, in order', () => {
    const body = {
      object: 'page',
      entry: [
        { id: page, time: now, messaging: [{ ...from, message: { mid: 'm_a', text: 'a' } }, { ...from, message: { mid: 'm_b', text: 'b' } }] },
        { id: page, time: now, messaging: [{ ...from, message: { mid: 'm_c', text: 'c' } }] },
      ],
    };
    expect(parseMessengerWebhook(body, now).events.map((event) => event.id)).toEqual(['m_a', 'm_b', 'm_c']);
  });
});

const card = (i: number, extra: Partial<ProductCard> = {}): ProductCard => ({
  id: `p${i}`,
  article: `SKU-${i}`,
  title: `Product ${i} with a title long enough to need cutting at the generic template's eighty characters`,
  description: 'A description that goes on and on, well past the eighty characters a subtitle may hold.',
  price: 1250,
  currency: 'EUR',
  priceText: '€12.50',
  imageUrl: `https://shop.example/img/${i}.png`,
  available: true,
  buttons: [
    { title: 'Add to cart', payload: `add:p${i}` },
    { title: 'Details', payload: `product:p${i}` },
    { title: 'More photos', payload: `photos:p${i}` },
    { title: 'Share', payload: `share:p${i}` },
  ],
  ...extra,
});

const receipt: Extract<OutboundMessage, { kind: 'receipt' }> = {
  kind: 'receipt',
  orderId: 1001,
  orderNumber: 'ORD-1001',
  recipientName: 'Ana Lopez',
  currency: 'USD',
  paymentMethod: 'Visa 4242',
  orderUrl: 'https://shop.example.com/orders/ORD-1001',
  timestamp: 1767225700,
  address: { street1: 'Calle Mayor 1', street2: '', city: 'Madrid', postalCode: '28013', state: 'Madrid', country: 'ES' },
  delivery: 'shipping',
  items: [
    {
      title: 'Linen shirt (M)',
      subtitle: '100% linen',
      quantity: 1,
      price: 2500,
      currency: 'USD',
      imageUrl: 'https://shop.example.com/img/linen-shirt.png',
    },
  ],
  summary: { subtotal: 2500, shippingCost: 495, totalTax: 0, totalCost: 2495 },
  adjustments: [{ name: 'Welcome discount', amount: 500 }],
  text: 'Order ORD-1001: Linen shirt (M) x1, total $24.95',
};

const response = { mode: 'response' } as const;
const messageOf = (request: MessengerRequest | undefined): unknown => (request && 'message' in request ? request.message : undefined);

describe('rendering for Messenger', () => {
  it('splits a text over 2000 characters at word boundaries', () => {
    const text = Array.from({ length: 900 }, (_, i) => `w${i}`).join(' ');
    const requests = renderMessenger({ kind: 'text', text }, psid, response);
    expect(requests.length).toBeGreaterThan(1);
    const texts = requests.map((request) => (messageOf(request) as { text: string }).text);
    for (const part of texts) expect(part.length).toBeLessThanOrEqual(2000);
    expect(texts.join(' ')).toBe(text);
    for (const request of requests) expect(request).toMatchObject({ recipient: { id: psid }, messaging_type: 'RESPONSE' });
  });

  it('caps quick replies at 13 with titles of at most 20 characters, on the last part only', () => {
    const quickReplies = Array.from({ length: 20 }, (_, i) => ({ title: `A rather long choice number ${i}`, payload: `choice:${i}` }));
    const requests = renderMessenger({ kind: 'text', text: 'x '.repeat(1500).trim(), quickReplies }, psid, response);
    expect(requests).toHaveLength(2);
    expect(messageOf(requests[0])).not.toHaveProperty('quick_replies');
    const quick = (messageOf(requests[1]) as { quick_replies: { title: string; payload: string; content_type: string }[] }).quick_replies;
    expect(quick).toHaveLength(13);
    for (const reply of quick) {
      expect(reply.content_type).toBe('text');
      expect(reply.title.length).toBeLessThanOrEqual(20);
    }
    expect(quick[0]).toEqual({ content_type: 'text', title: 'A rather long choic…', payload: 'choice:0' });
  });

  it('drops a choice whose payload is over 1000 characters rather than cutting it', () => {
    const requests = renderMessenger(
      { kind: 'text', text: 'Pick', quickReplies: [{ title: 'Long', payload: 'x'.repeat(1001) }, { title: 'Ok', payload: 'ok' }] },
      psid,
      response,
    );
    expect((messageOf(requests[0]) as { quick_replies: unknown[] }).quick_replies).toEqual([{ content_type: 'text', title: 'Ok', payload: 'ok' }]);
  });

  it('sends buttons as a button template of at most 3, its text within 640 characters', () => {
    const buttons = [
      { title: 'Add to cart', payload: 'add:p1' },
      { title: 'Website', url: 'https://shop.example/' },
      { title: 'Three', payload: 'three' },
      { title: 'Four', payload: 'four' },
    ];
    const [only] = renderMessenger({ kind: 'text', text: 'What next?', buttons }, psid, response);
    expect(messageOf(only)).toEqual({
      attachment: {
        type: 'template',
        payload: {
          template_type: 'button',
          text: 'What next?',
          buttons: [
            { type: 'postback', title: 'Add to cart', payload: 'add:p1' },
            { type: 'web_url', title: 'Website', url: 'https://shop.example/' },
            { type: 'postback', title: 'Three', payload: 'three' },
          ],
        },
      },
    });
    const long = renderMessenger({ kind: 'text', text: 'y '.repeat(500).trim(), buttons }, psid, response);
    expect(long).toHaveLength(2);
    expect(((messageOf(long[1]) as { attachment: { payload: { text: string } } }).attachment.payload.text).length).toBeLessThanOrEqual(640);
  });

  it('shows products as a generic template of at most 10 cards within the limits', () => {
    const products = Array.from({ length: 12 }, (_, i) => card(i));
    const requests = renderMessenger({ kind: 'products', text: 'Our shirts', products, quickReplies: [{ title: 'Cart', payload: 'cart' }] }, psid, response);
    expect(messageOf(requests[0])).toEqual({ text: 'Our shirts' });
    const carousel = messageOf(requests[1]) as { attachment: { payload: { template_type: string; elements: Record<string, unknown>[] } }; quick_replies: unknown[] };
    expect(carousel.attachment.payload.template_type).toBe('generic');
    expect(carousel.attachment.payload.elements).toHaveLength(10);
    expect(carousel.quick_replies).toEqual([{ content_type: 'text', title: 'Cart', payload: 'cart' }]);
    const first = carousel.attachment.payload.elements[0] as { title: string; subtitle: string; image_url: string; buttons: unknown[] };
    expect(first.title.length).toBeLessThanOrEqual(80);
    expect(first.subtitle.length).toBeLessThanOrEqual(80);
    expect(first.subtitle.startsWith('€12.50 · A description')).toBe(true);
    expect(first.image_url).toBe('https://shop.example/img/0.png');
    expect(first.buttons).toEqual([
      { type: 'postback', title: 'Add to cart', payload: 'add:p0' },
      { type: 'postback', title: 'Details', payload: 'product:p0' },
      { type: 'postback', title: 'More photos', payload: 'photos:p0' },
    ]);
  });

  it('renders a receipt with every field of the receipt template, as the documented request', () => {
    const expected = fixture('send_receipt_request') as { message: { attachment: { payload: Record<string, unknown> } } };
    const { merchant_name: _merchant, ...payload } = expected.message.attachment.payload;
    const [request] = renderMessenger(receipt, psid, response);
    expect(request).toEqual({ ...expected, message: { attachment: { type: 'template', payload } } });
  });

  it('writes money as exact decimals of the minor units', () => {
    const [request] = renderMessenger(
      {
        ...receipt,
        items: [{ title: 'Mug', quantity: 3, price: 1999, currency: 'USD' }],
        summary: { subtotal: 5997, shippingCost: 10, totalTax: 1, totalCost: 123456789 },
        adjustments: [],
      },
      psid,
      response,
    );
    const json = JSON.stringify(request);
    expect(json).toContain('"summary":{"subtotal":59.97,"shipping_cost":0.1,"total_tax":0.01,"total_cost":1234567.89}');
    expect(json).toContain('"price":19.99');
    expect(json).not.toContain('adjustments');
    const [yen] = renderMessenger({ ...receipt, currency: 'JPY', items: [{ title: 'Tea', quantity: 1, price: 1999, currency: 'JPY' }] }, psid, response);
    expect(JSON.stringify(yen)).toContain('"price":1999');
  });

  it('omits the address when nothing ships', () => {
    const { address: _address, ...pickup } = receipt;
    const [request] = renderMessenger({ ...pickup, delivery: 'pickup' }, psid, response);
    expect(JSON.stringify(request)).not.toContain('street_1');
  });

  it('sends a shipping update as a button template with the tracking link, as an update', () => {
    const [request] = renderMessenger(
      { kind: 'shipping_update', orderId: 7, status: 70, statusText: 'Sent', text: 'Your order 7 is on its way.', trackingUrl: 'https://track.example/7', intent: 'update' },
      psid,
      { mode: 'update' },
    );
    expect(request).toEqual({
      recipient: { id: psid },
      messaging_type: 'UPDATE',
      message: {
        attachment: {
          type: 'template',
          payload: { template_type: 'button', text: 'Your order 7 is on its way.', buttons: [{ type: 'web_url', title: 'Track package', url: 'https://track.example/7' }] },
        },
      },
    });
  });

  const shipped: Extract<OutboundMessage, { kind: 'shipping_update' }> = {
    kind: 'shipping_update',
    orderId: 7,
    status: 70,
    statusText: 'en route',
    text: 'Votre commande n° 7 est en route.',
    trackingUrl: 'https://track.example/7',
  };
  const trackButtonOf = (message: OutboundMessage) =>
    (messageOf(renderMessenger(message, psid, response)[0]) as { attachment: { payload: { buttons: unknown[] } } }).attachment.payload.buttons;

  it('titles the tracking button with the message\'s own title, cut to 20 characters', () => {
    expect(trackButtonOf({ ...shipped, trackingUrlTitle: 'Suivre le colis' })).toEqual([{ type: 'web_url', title: 'Suivre le colis', url: 'https://track.example/7' }]);
    expect(trackButtonOf({ ...shipped, trackingUrlTitle: 'Suivre mon colis en temps réel' })).toEqual([
      { type: 'web_url', title: 'Suivre mon colis en…', url: 'https://track.example/7' },
    ]);
  });

  it('titles the tracking button "Track package" when the message carries no title', () => {
    expect(trackButtonOf(shipped)).toEqual([{ type: 'web_url', title: 'Track package', url: 'https://track.example/7' }]);
  });

  it('renders a utility template with its body parameters', () => {
    const requests = renderMessenger(receipt, psid, { mode: 'template', template: { name: 'order_receipt', language: 'en_US', parameters: ['Ana', 'ORD-1001', '$24.95'] } });
    expect(requests).toEqual([
      {
        recipient: { id: psid },
        messaging_type: 'UTILITY',
        template: {
          name: 'order_receipt',
          language: { code: 'en_US' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'ORD-1001' }, { type: 'text', text: '$24.95' }] }],
        },
      },
    ]);
  });
});

describe('sending through the Send API', () => {
  let graph: FakeGraphApi;
  let plugin: ChannelPlugin;
  const to: Address = address;
  const fresh = (attempt = 0): SendContext => ({ outboxId: 1, attempt, lastInboundAt: Date.now() - 60_000 });
  const stale: SendContext = { outboxId: 2, attempt: 0, lastInboundAt: Date.now() - 25 * 60 * 60 * 1000 };
  const deps = { store: createMemoryStore(), logger: silentLogger };

  beforeAll(async () => {
    graph = await startFakeGraphApi({ pageToken: 'page-token' });
    plugin = createMessengerPlugin(
      {
        appSecret: 'test_app_secret_123',
        verifyToken: 'verify-me',
        graphApiUrl: graph.url,
        pageToken: 'page-token',
        templates: { receipt: 'order_receipt', shippingUpdate: 'shipping_update', language: 'en_US' },
      },
      deps,
    );
  });
  afterAll(async () => {
    await plugin.close?.();
    await graph.close();
  });
  beforeEach(() => graph.reset());

  it('answers the platform message id, with the token in the query string', async () => {
    const result = await plugin.channel.send(to, { kind: 'text', text: 'Hello Ana' }, fresh());
    const [request] = graph.requests;
    expect(request).toMatchObject({ kind: 'messenger', status: 200, query: { access_token: 'page-token' } });
    expect(request?.body).toEqual({ recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'Hello Ana' } });
    expect(result).toEqual({ platformId: (request?.answer as { message_id: string }).message_id });
  });

  it('sends a receipt and a product carousel the Send API accepts', async () => {
    await plugin.channel.send(to, receipt, fresh());
    await plugin.channel.send(to, { kind: 'products', products: [card(1), card(2)], quickReplies: [{ title: 'Cart', payload: 'cart' }] }, fresh());
    expect(graph.requests.map((request) => request.status)).toEqual([200, 200]);
  });

  it('answers the last part of a split text, every part accepted', async () => {
    const result = await plugin.channel.send(to, { kind: 'text', text: 'z '.repeat(2500).trim() }, fresh());
    expect(graph.requests).toHaveLength(3);
    expect(graph.requests.every((request) => request.status === 200)).toBe(true);
    expect(result.platformId).toBe((graph.requests[2]?.answer as { message_id: string }).message_id);
  });

  it('throws a retryable error with the wait hint on a 429', async () => {
    graph.fail(graphFailures.rateLimited(5));
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({
      delivery: { retryable: true, retryAfterMs: 5_000 },
    });
  });

  it('throws a retryable error on a 500', async () => {
    graph.fail(graphFailures.serverError());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({ delivery: { retryable: true } });
  });

  it('throws a permanent error when the person is unavailable or unknown', async () => {
    graph.fail(graphFailures.userUnavailable());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({
      delivery: { retryable: false, platformCode: '551/1545041' },
    });
    graph.fail(graphFailures.noMatchingUser());
    await expect(plugin.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({
      delivery: { retryable: false, platformCode: '100/2018001' },
    });
  });

  it('marks the channel unauthorized when the page token is refused', async () => {
    const wrong = createMessengerPlugin({ appSecret: 's', graphApiUrl: graph.url, pageToken: 'expired' }, deps);
    await expect(wrong.channel.send(to, { kind: 'text', text: 'hi' }, fresh())).rejects.toMatchObject({
      delivery: { retryable: false, unauthorized: true, platformCode: 190 },
    });
    await wrong.close?.();
  });

  it('blocks a free-form message outside the window without calling the platform', async () => {
    const error: unknown = await plugin.channel.send(to, { kind: 'text', text: 'Still there?' }, stale).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).delivery).toMatchObject({ retryable: false, blocked: true });
    expect(graph.requests).toHaveLength(0);
  });

  it('sends a receipt outside the window as the utility template', async () => {
    await plugin.channel.send(to, receipt, stale);
    expect(graph.requests[0]).toMatchObject({
      status: 200,
      body: {
        messaging_type: 'UTILITY',
        template: { name: 'order_receipt', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ text: 'Ana Lopez' }, { text: 'ORD-1001' }, { text: '$24.95' }] }] },
      },
    });
  });

  it('blocks a receipt outside the window when no template is configured', async () => {
    const bare = createMessengerPlugin({ appSecret: 's', graphApiUrl: graph.url, pageToken: 'page-token' }, deps);
    await expect(bare.channel.send(to, receipt, stale)).rejects.toMatchObject({ delivery: { retryable: false, blocked: true } });
    await bare.close?.();
    expect(graph.requests).toHaveLength(0);
  });
});

describe('the Messenger webhook', () => {
  const counted: [string, number][] = [];
  const plugin = createMessengerPlugin(
    { appSecret: 'test_app_secret_123', verifyToken: 'verify-me', graphApiUrl: 'http://127.0.0.1:9/v21.0', pageToken: 't' },
    { store: createMemoryStore(), logger: silentLogger, ignored: (channel, count) => counted.push([channel, count]) },
  );
  const webhook = plugin.webhook!;
  const vector = fixture('signature_vector') as { raw_body: string; header_value: string };

  it('is named messenger and acknowledges with EVENT_RECEIVED', () => {
    expect(webhook.name).toBe('messenger');
    expect(webhook.ack).toBe('EVENT_RECEIVED');
  });

  it('verifies the signed test vector and parses it', () => {
    const rawBody = Buffer.from(vector.raw_body, 'utf8');
    expect(webhook.verify({ rawBody, headers: { 'x-hub-signature-256': vector.header_value } })).toBe(true);
    expect(webhook.parse(JSON.parse(vector.raw_body), now).events).toMatchObject([{ id: 'm_sigtest_0001', type: 'text', text: 'Grüße aus München' }]);
  });

  it('counts what it ignores for the metrics', () => {
    const echo = { sender: { id: psid }, recipient: { id: page }, timestamp: 1, message: { mid: 'm_echo', text: 'x', is_echo: true } };
    expect(webhook.parse({ object: 'page', entry: [{ id: page, messaging: [echo] }] }, now)).toEqual({ events: [], ignored: 1 });
    expect(counted).toEqual([['messenger', 1]]);
  });

  it('answers the subscription handshake', () => {
    expect(webhook.verifyChallenge({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '42' })).toBe('42');
    expect(webhook.verifyChallenge({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '42' })).toBeNull();
  });

  it('refuses every POST when no app secret is configured', () => {
    const open = createMessengerPlugin({ graphApiUrl: 'http://127.0.0.1:9/v21.0', pageToken: 't' }, { store: createMemoryStore(), logger: silentLogger });
    expect(open.webhook?.verify({ rawBody: Buffer.from(vector.raw_body), headers: { 'x-hub-signature-256': vector.header_value } })).toBe(false);
  });
});
