import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelPlugin } from '../../src/channels/plugin.js';
import {
  callbackData,
  checkPreCheckout,
  createTelegramPlugin,
  defaultPreCheckoutTexts,
  defaultThrottle,
  escapeHtml,
  escapeHtmlAttribute,
  fitsCallbackData,
  parseUpdate,
  renderInvoice,
  renderTelegram,
  resolveCallbackData,
  toDeliveryError,
  type PreCheckoutTexts,
  type TelegramConfig,
} from '../../src/channels/telegram/index.js';
import { DeliveryError } from '../../src/core/errors.js';
import { inboundEventSchema, type InboundEventInput } from '../../src/core/events.js';
import type { Address } from '../../src/core/ids.js';
import type { Logger } from '../../src/core/logger.js';
import type { OutboundMessage, ProductCard } from '../../src/core/outbound.js';
import type { OrderRecord, OutboxItem, Store } from '../../src/core/store.js';
import { startFakeTelegram, telegramUpdates, type FakeTelegram } from '../fakes/telegram-api.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/telegram/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

const bot = '7000000001';
const chat = 123456789;
const address: Address = { channel: 'telegram', account: bot, user: String(chat) };
const key = `conv:telegram:${bot}:${chat}`;
const now = 1_767_300_000_000;

/** A store with only what the channel reads: outbox rows and orders. */
function stubStore(rows: { outbox?: OutboxItem[]; orders?: OrderRecord[] } = {}): Store {
  const store: Pick<Store, 'getOutbox' | 'getOrder'> = {
    getOutbox: async (id) => rows.outbox?.find((row) => row.id === id) ?? null,
    getOrder: async (id) => rows.orders?.find((order) => order.id === id) ?? null,
  };
  return store as Store;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (object: object, message?: string) => void lines.push(`${message ?? ''} ${JSON.stringify(object)}`);
  return { lines, debug: write, info: write, warn: write, error: write };
}

const card = (over: Partial<ProductCard> = {}): ProductCard => ({
  id: 'mug',
  title: 'Blue <mug>',
  description: 'Stoneware & glaze, 350 ml',
  price: 1250,
  currency: 'USD',
  priceText: '$12.50',
  imageUrl: 'https://shop.example.com/mug.jpg',
  available: true,
  buttons: [{ title: 'Add to cart', payload: 'add:mug' }],
  ...over,
});

describe('parsing Telegram updates', () => {
  it('turns a text message into a text event keyed by bot and chat, at the message date', () => {
    expect(parseUpdate(fixture('text_message'), bot, now)).toEqual({
      kind: 'event',
      event: { id: `tg:${bot}:815000101`, key, at: 1767225600000, address, type: 'text', text: 'Do you still have the blue mug in stock?' },
    });
  });

  it('turns /start (with a deep-link parameter) into the start command the shop flow reads as menu', () => {
    expect(parseUpdate(fixture('start_command'), bot, now)).toEqual({
      kind: 'event',
      event: { id: `tg:${bot}:815000100`, key, at: 1767225590000, address, type: 'command', command: 'start' },
    });
  });

  it('turns a button press into a payload event with the button title, at the time it is read', () => {
    expect(parseUpdate(fixture('callback_query'), bot, now)).toEqual({
      kind: 'callback',
      queryId: '530164827103857629',
      event: { id: `tg:${bot}:815000102`, key, at: now, address, type: 'payload', payload: 'cart:add:SKU-BLUE-MUG:1', title: 'Add to cart' },
    });
  });

  it('reads a pre-checkout query as a question to answer, not an event', () => {
    expect(parseUpdate(fixture('pre_checkout_query'), bot, now)).toEqual({
      kind: 'pre_checkout',
      queryId: '530164827103860001',
      query: { invoicePayload: 'order:ORD-1001', currency: 'USD', totalAmount: 2500 },
    });
  });

  it("turns a successful payment into order_paid for the order's actor, deduplicated by the charge id", () => {
    expect(parseUpdate(fixture('successful_payment'), bot, now)).toEqual({
      kind: 'event',
      event: {
        id: 'tg:pay:stxAbCdEfGhIjKlMnOpQrStUv',
        key: 'order:1001',
        at: 1767225700000,
        address,
        type: 'order_paid',
        orderId: 1001,
        method: 'telegram',
      },
    });
  });

  it('produces events the core accepts', () => {
    for (const name of ['text_message', 'start_command', 'callback_query', 'successful_payment']) {
      const input = parseUpdate(fixture(name), bot, now);
      const event = input.kind === 'event' || input.kind === 'callback' ? input.event : undefined;
      expect(inboundEventSchema.safeParse(event).success, name).toBe(true);
    }
  });

  it('ignores what it does not handle, and bodies that are not updates', () => {
    expect(parseUpdate({ update_id: 5, edited_message: { message_id: 1, date: 1, chat: { id: 1 }, text: 'x' } }, bot, now)).toEqual({ kind: 'ignored' });
    expect(parseUpdate({ hello: 'world' }, bot, now)).toEqual({ kind: 'ignored', reason: 'not an update' });
  });
});

describe('HTML for Telegram', () => {
  it('escapes &, < and > in text, and quotes as well in attributes', () => {
    expect(escapeHtml('Tea & <b>Coffee</b> > 3')).toBe('Tea &amp; &lt;b&gt;Coffee&lt;/b&gt; &gt; 3');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(escapeHtmlAttribute('https://x.test/?a=1&b="2"')).toBe('https://x.test/?a=1&amp;b=&quot;2&quot;');
  });

  it('renders catalog text with markup characters as plain text, never as markup', () => {
    const [call] = renderTelegram({ kind: 'text', text: '<i>50% off</i> & free' }, chat, 1);
    expect(call?.payload).toMatchObject({ text: '&lt;i&gt;50% off&lt;/i&gt; &amp; free', parse_mode: 'HTML' });
  });
});

describe('callback data within 64 bytes', () => {
  it('counts UTF-8 bytes, not characters', () => {
    expect(fitsCallbackData('a'.repeat(64))).toBe(true);
    expect(fitsCallbackData('a'.repeat(65))).toBe(false);
    expect(fitsCallbackData('é'.repeat(32))).toBe(true); // 64 bytes
    expect(fitsCallbackData('é'.repeat(33))).toBe(false); // 33 characters, 66 bytes
    expect(fitsCallbackData('🍵'.repeat(16))).toBe(true); // 64 bytes
    expect(fitsCallbackData('🍵'.repeat(17))).toBe(false);
    expect(fitsCallbackData('')).toBe(false);
  });

  it('sends a payload that fits as it is, and one that does not as a reference into the outbox', () => {
    expect(callbackData('add:mug', 42, 0)).toBe('add:mug');
    expect(callbackData(`cat:${'Thé vert'.repeat(8)}`, 42, 3)).toBe('o:42:3');
    // A payload shaped like a reference is stored too, so a reference is never ambiguous.
    expect(callbackData('o:1:2', 42, 1)).toBe('o:42:1');
  });

  it("resolves a reference to that button's payload, only for the customer it was sent to", async () => {
    const long = `cat:${'Thé vert'.repeat(8)}`;
    const message: OutboundMessage = { kind: 'text', text: 'Pick one', buttons: [{ title: 'Menu', payload: 'menu' }], quickReplies: [{ title: 'Green', payload: long }] };
    const row = { id: 42, lane: key, status: 'sent', attempts: 0, availableAt: 0, createdAt: 0, history: [], effect: { type: 'reply', to: address, message } } as OutboxItem;
    const store = stubStore({ outbox: [row] });
    const [call] = renderTelegram(message, chat, 42);
    const data = (call?.payload as { reply_markup: { inline_keyboard: { callback_data: string }[][] } }).reply_markup.inline_keyboard.flat().map((b) => b.callback_data);
    expect(data).toEqual(['menu', 'o:42:1']);
    expect(await resolveCallbackData('o:42:1', address, store)).toEqual({ payload: long, title: 'Green' });
    expect(await resolveCallbackData('o:42:1', { ...address, user: '999' }, store)).toBeNull();
    expect(await resolveCallbackData('o:43:0', address, store)).toBeNull();
    expect(await resolveCallbackData('menu', address, store)).toEqual({ payload: 'menu' });
  });
});

describe('rendering messages for Telegram', () => {
  it('renders a text with its buttons, then its quick replies, packed in short rows', () => {
    const calls = renderTelegram(
      {
        kind: 'text',
        text: 'Hello',
        buttons: [
          { title: 'Open shop', url: 'https://shop.example.com' },
          { title: 'Call us', payload: 'call' },
        ],
        quickReplies: [
          { title: 'Browse', payload: 'browse' },
          { title: 'Search', payload: 'search' },
          { title: 'Cart', payload: 'cart' },
          { title: 'My orders', payload: 'orders' },
        ],
      },
      chat,
      1,
    );
    expect(calls).toEqual([
      {
        method: 'sendMessage',
        payload: {
          chat_id: chat,
          text: 'Hello',
          parse_mode: 'HTML',
          reply_markup: {
            inline_keyboard: [
              [
                { text: 'Open shop', url: 'https://shop.example.com' },
                { text: 'Call us', callback_data: 'call' },
              ],
              [
                { text: 'Browse', callback_data: 'browse' },
                { text: 'Search', callback_data: 'search' },
                { text: 'Cart', callback_data: 'cart' },
              ],
              [{ text: 'My orders', callback_data: 'orders' }],
            ],
          },
        },
      },
    ]);
  });

  it('renders products as photos with an escaped caption, text when there is no image, quick replies on the last', () => {
    const calls = renderTelegram(
      {
        kind: 'products',
        text: 'Our mugs:',
        products: [
          card(),
          card({ id: 'cup', title: 'Cup', imageUrl: undefined, buttons: [{ title: 'Add to cart', payload: 'add:cup' }, { title: 'Details', payload: 'product:cup' }] }),
        ],
        quickReplies: [{ title: 'Menu', payload: 'menu' }],
      },
      chat,
      1,
    );
    expect(calls).toEqual([
      { method: 'sendMessage', payload: { chat_id: chat, text: 'Our mugs:', parse_mode: 'HTML' } },
      {
        method: 'sendPhoto',
        payload: {
          chat_id: chat,
          photo: 'https://shop.example.com/mug.jpg',
          caption: '<b>Blue &lt;mug&gt;</b>\n$12.50\n\nStoneware &amp; glaze, 350 ml',
          parse_mode: 'HTML',
          reply_markup: { inline_keyboard: [[{ text: 'Add to cart', callback_data: 'add:mug' }]] },
        },
      },
      {
        method: 'sendMessage',
        payload: {
          chat_id: chat,
          text: '<b>Cup</b>\n$12.50\n\nStoneware &amp; glaze, 350 ml',
          parse_mode: 'HTML',
          reply_markup: {
            inline_keyboard: [
              [
                { text: 'Add to cart', callback_data: 'add:cup' },
                { text: 'Details', callback_data: 'product:cup' },
              ],
              [{ text: 'Menu', callback_data: 'menu' }],
            ],
          },
        },
      },
    ]);
  });

  it('keeps a caption within 1024 characters', () => {
    const [call] = renderTelegram({ kind: 'products', products: [card({ description: 'x'.repeat(5_000) })] }, chat, 1);
    const caption = (call?.payload as { caption: string }).caption.replace(/<[^>]+>/g, '').replace(/&(lt|gt|amp);/g, '_');
    expect(caption.length).toBeLessThanOrEqual(1_024);
    expect(caption.endsWith('…')).toBe(true);
  });

  it('renders one product with a detail text as one photo captioned with that text', () => {
    const calls = renderTelegram({ kind: 'products', text: 'Blue mug — $12.50', products: [card()], quickReplies: [{ title: 'Cart', payload: 'cart' }] }, chat, 1);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'sendPhoto', payload: { caption: 'Blue mug — $12.50' } });
  });

  it('renders a receipt as one HTML message: title and total in bold, items, subtotal and delivery', () => {
    const text = ['Order #12', '2 × Blue <mug> — $25.00', 'Subtotal: $25.00', 'Shipping: $4.00', 'Total: $29.00', 'For: Ana, +34 600 000 000'].join('\n');
    const [call] = renderTelegram(
      {
        kind: 'receipt',
        orderId: 12,
        orderNumber: '12',
        recipientName: 'Ana',
        currency: 'USD',
        paymentMethod: 'Pay on delivery',
        orderUrl: 'https://shop.example.com/orders/12?a=1&b=2',
        timestamp: 1767225600,
        delivery: 'shipping',
        items: [{ title: 'Blue <mug>', quantity: 2, price: 1250, currency: 'USD' }],
        summary: { subtotal: 2500, shippingCost: 400, totalTax: 0, totalCost: 2900 },
        adjustments: [],
        text,
      },
      chat,
      1,
    );
    expect(call).toEqual({
      method: 'sendMessage',
      payload: {
        chat_id: chat,
        text: '<b>Order #12</b>\n2 × Blue &lt;mug&gt; — $25.00\nSubtotal: $25.00\nShipping: $4.00\n<b>Total: $29.00</b>\nFor: Ana, +34 600 000 000',
        parse_mode: 'HTML',
        reply_markup: { inline_keyboard: [[{ text: 'View order', url: 'https://shop.example.com/orders/12?a=1&b=2' }]] },
      },
    });
  });

  it('renders a shipping update with the tracking link as a URL button', () => {
    const [call] = renderTelegram(
      { kind: 'shipping_update', orderId: 12, status: 70, statusText: 'on its way', text: 'Order #12 is on its way', packageNumber: '1Z<9>', trackingUrl: 'https://track.example.com/1Z9' },
      chat,
      1,
    );
    expect(call?.payload).toEqual({
      chat_id: chat,
      text: 'Order #12 is on its way\n<code>1Z&lt;9&gt;</code>',
      parse_mode: 'HTML',
      reply_markup: { inline_keyboard: [[{ text: 'Track package', url: 'https://track.example.com/1Z9' }]] },
    });
  });

  describe('the titles of the order and tracking link buttons', () => {
    const receipt: Extract<OutboundMessage, { kind: 'receipt' }> = {
      kind: 'receipt',
      orderId: 12,
      orderNumber: '12',
      recipientName: 'Ana',
      currency: 'EUR',
      paymentMethod: 'Paiement à la livraison',
      orderUrl: 'https://shop.example.com/orders/12',
      timestamp: 1767225600,
      delivery: 'pickup',
      items: [{ title: 'Thé vert', quantity: 1, price: 900, currency: 'EUR' }],
      summary: { subtotal: 900, shippingCost: 0, totalTax: 0, totalCost: 900 },
      adjustments: [],
      text: 'Commande n° 12\nTotal : 9,00 €',
    };
    const update: Extract<OutboundMessage, { kind: 'shipping_update' }> = {
      kind: 'shipping_update',
      orderId: 12,
      status: 70,
      statusText: 'en route',
      text: 'Votre commande n° 12 est en route.',
      trackingUrl: 'https://track.example.com/1Z9',
    };
    const buttonOf = (message: OutboundMessage) =>
      (renderTelegram(message, chat, 1)[0]?.payload as { reply_markup?: { inline_keyboard: { text: string; url: string }[][] } }).reply_markup
        ?.inline_keyboard;

    it('are the message\'s own, whole at any length (Telegram sets no limit)', () => {
      expect(buttonOf({ ...receipt, orderUrlTitle: 'Voir ma commande sur la boutique' })).toEqual([
        [{ text: 'Voir ma commande sur la boutique', url: 'https://shop.example.com/orders/12' }],
      ]);
      expect(buttonOf({ ...update, trackingUrlTitle: 'Suivre mon colis en temps réel' })).toEqual([
        [{ text: 'Suivre mon colis en temps réel', url: 'https://track.example.com/1Z9' }],
      ]);
    });

    it('are "View order" and "Track package" for a message that carries none', () => {
      expect(buttonOf(receipt)).toEqual([[{ text: 'View order', url: 'https://shop.example.com/orders/12' }]]);
      expect(buttonOf(update)).toEqual([[{ text: 'Track package', url: 'https://track.example.com/1Z9' }]]);
    });
  });

  it('renders an invoice as plain text when no payment token is configured', () => {
    const invoice: OutboundMessage = {
      kind: 'invoice',
      orderId: 12,
      title: 'Order #12',
      description: '2 items',
      currency: 'EUR',
      lines: [{ label: 'Mugs', amount: 2500 }],
      text: 'Order #12: €25.00 <to pay>',
    };
    expect(renderTelegram(invoice, 42, 7)).toEqual([
      { method: 'sendMessage', payload: { chat_id: 42, text: 'Order #12: €25.00 &lt;to pay&gt;', parse_mode: 'HTML' } },
    ]);
    expect(renderTelegram(invoice, 42, 7, 'provider-token')[0]!.method).toBe('sendInvoice');
  });

  it('renders an invoice with prices in minor units and the order in its payload', () => {
    expect(
      renderInvoice(
        { orderId: 12, title: 'Order #12 from the Example Shop, thank you', description: '2 items', currency: 'usd', lines: [{ label: 'Mugs', amount: 2500 }, { label: 'Shipping', amount: 400 }] },
        'provider-token',
      ),
    ).toEqual({
      title: 'Order #12 from the Example Shop…',
      description: '2 items',
      payload: 'order:12',
      provider_token: 'provider-token',
      currency: 'USD',
      prices: [{ label: 'Mugs', amount: 2500 }, { label: 'Shipping', amount: 400 }],
    });
  });
});

describe('sending through the Bot API', () => {
  let fake: FakeTelegram;
  let plugin: ChannelPlugin;
  let logger: ReturnType<typeof recordingLogger>;
  let nextChat = 500;
  const to = (chatId: number): Address => ({ channel: 'telegram', account: bot, user: String(chatId) });
  const send = (chatId: number, message: OutboundMessage, outboxId = 1) => plugin.channel.send(to(chatId), message, { outboxId, attempt: 0 });
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a DeliveryError'), (error: unknown) => error as DeliveryError);

  beforeAll(async () => {
    fake = await startFakeTelegram();
    logger = recordingLogger();
    const config: TelegramConfig = { token: fake.token, mode: 'webhook', apiRoot: fake.apiRoot, botInfo: fake.me, paymentToken: 'provider-token' };
    plugin = createTelegramPlugin(config, { store: stubStore(), logger });
  });
  afterAll(() => fake.close());

  it("answers the sent message's id as the platform id", async () => {
    const chatId = nextChat++;
    expect(await send(chatId, { kind: 'text', text: 'Tea & <cake>' })).toEqual({ platformId: '1' });
    expect(fake.messagesTo(chatId)[0]?.text).toBe('Tea & <cake>');
  });

  it('sends every part of a products message and answers the last part id', async () => {
    const chatId = nextChat++;
    const result = await send(chatId, { kind: 'products', text: 'Mugs', products: [card(), card({ id: 'b' })] });
    expect(result).toEqual({ platformId: '3' });
    expect(fake.messagesTo(chatId).map((m) => (m.photo ? 'photo' : 'text'))).toEqual(['text', 'photo', 'photo']);
  });

  it('waits out a 429 for its retry_after and sends again', async () => {
    const chatId = nextChat++;
    fake.fail('sendMessage', { kind: 'flood', retryAfter: 1 });
    const before = fake.calls('sendMessage').length;
    expect(await send(chatId, { kind: 'text', text: 'after the flood' })).toEqual({ platformId: '1' });
    const [refused, accepted] = fake.calls('sendMessage').slice(before);
    expect(refused?.status).toBe(429);
    expect(accepted?.status).toBe(200);
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives a long 429 back to the outbox as retryable with the wait hint', async () => {
    fake.fail('sendMessage', { kind: 'flood', retryAfter: 120 });
    const error = await failure(send(nextChat++, { kind: 'text', text: 'x' }));
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.delivery).toEqual({ retryable: true, retryAfterMs: 120_000, platformCode: 429 });
  });

  it('fails for good, as blocked, when the user blocked the bot', async () => {
    const chatId = nextChat++;
    fake.block(chatId);
    const error = await failure(send(chatId, { kind: 'text', text: 'x' }));
    expect(error.delivery).toEqual({ retryable: false, blocked: true, platformCode: 403 });
    expect(error.message).toContain('bot was blocked by the user');
  });

  it('follows a group that became a supergroup, and sends there from then on', async () => {
    const group = -4_001;
    const supergroup = -1_000_000_004_001;
    fake.upgrade(group, supergroup);
    expect(await send(group, { kind: 'products', text: 'Mugs', products: [card(), card({ id: 'b' })] }, 71)).toEqual({ platformId: '3' });
    expect(fake.messagesTo(supergroup).map((m) => (m.photo ? 'photo' : 'text'))).toEqual(['text', 'photo', 'photo']);
    expect(fake.messagesTo(group)).toEqual([]);
    const refused = () => [...fake.calls('sendMessage'), ...fake.calls('sendPhoto')].filter((call) => call.status === 400).length;
    expect(refused()).toBe(1);

    expect(await send(group, { kind: 'text', text: 'again' }, 72)).toEqual({ platformId: '4' });
    expect(fake.messagesTo(supergroup).at(-1)?.text).toBe('again');
    expect(refused()).toBe(1);
  });

  it('fails for good when the chat does not exist', async () => {
    fake.fail('sendMessage', { kind: 'chat_not_found' });
    const error = await failure(send(nextChat++, { kind: 'text', text: 'x' }));
    expect(error.delivery).toEqual({ retryable: false, platformCode: 400 });
  });

  it('reports a refused token as unauthorized, without the token in the message', async () => {
    fake.fail('sendMessage', { kind: 'unauthorized' });
    const error = await failure(send(nextChat++, { kind: 'text', text: 'x' }));
    expect(error.delivery).toEqual({ retryable: false, unauthorized: true, platformCode: 401 });
    expect(error.message).not.toContain(fake.token);
  });

  it('retries a 5xx and an unreachable API through the outbox', async () => {
    fake.fail('sendMessage', { kind: 'server' });
    expect((await failure(send(nextChat++, { kind: 'text', text: 'x' }))).delivery).toEqual({ retryable: true, platformCode: 500 });
    fake.fail('sendMessage', { kind: 'drop' });
    const dropped = await failure(send(nextChat++, { kind: 'text', text: 'x' }));
    expect(dropped.delivery).toEqual({ retryable: true });
    expect(dropped.message).not.toContain(fake.token);
    expect(dropped.cause).toBeUndefined();
  });

  it('never shows the token in a converted error, even when the HTTP layer put it there', () => {
    const error = toDeliveryError(new Error(`request to ${fake.apiRoot}/bot${fake.token}/sendMessage failed`), fake.token);
    expect(error.message).toBe(`Telegram call failed: request to ${fake.apiRoot}/bot<token>/sendMessage failed`);
  });

  it('resumes a message of several parts where a failed attempt stopped', async () => {
    const chatId = nextChat++;
    const message: OutboundMessage = { kind: 'products', text: 'Mugs', products: [card(), card({ id: 'b' })] };
    fake.fail('sendPhoto', { kind: 'server' });
    await failure(send(chatId, message, 77));
    expect(await plugin.channel.send(to(chatId), message, { outboxId: 77, attempt: 1 })).toEqual({ platformId: '3' });
    expect(fake.messagesTo(chatId)).toHaveLength(3);
  });

  it('sends an invoice when a message says it is one', async () => {
    const chatId = nextChat++;
    const invoice: OutboundMessage = {
      kind: 'invoice',
      orderId: 12,
      title: 'Order #12',
      description: '2 mugs',
      currency: 'USD',
      lines: [{ label: 'Mugs', amount: 2500 }],
      text: 'Order #12: $25.00',
    };
    await send(chatId, invoice);
    expect(fake.calls('sendInvoice').at(-1)?.body).toMatchObject({ chat_id: chatId, payload: 'order:12', provider_token: 'provider-token', prices: [{ label: 'Mugs', amount: 2500 }] });
    expect(fake.messagesTo(chatId)[0]?.invoice).toMatchObject({ total_amount: 2500, currency: 'USD' });
  });

  it('lets a short burst to one chat through at once, in order', async () => {
    const chatId = nextChat++;
    // One after another, as the dispatcher sends to one customer: the channel itself does not serialize.
    for (const [i, text] of ['one', 'two', 'three'].entries()) await send(chatId, { kind: 'text', text }, 201 + i);
    const calls = fake.calls('sendMessage').filter((call) => call.body.chat_id === chatId);
    expect(calls.map((call) => call.body.text)).toEqual(['one', 'two', 'three']);
    expect(calls[2]!.at - calls[0]!.at).toBeLessThan(500);
  });

  it('holds a chat to its throttle once the burst is spent', async () => {
    const throttled = createTelegramPlugin(
      {
        token: fake.token,
        mode: 'webhook',
        apiRoot: fake.apiRoot,
        botInfo: fake.me,
        throttle: { ...defaultThrottle, chat: { burst: 2, perSecond: 2.5 } },
      },
      { store: stubStore(), logger },
    );
    const chatId = nextChat++;
    await Promise.all(
      ['a', 'b', 'c'].map((text, i) => throttled.channel.send(to(chatId), { kind: 'text', text }, { outboxId: 301 + i, attempt: 0 })),
    );
    const [first, , third] = fake.calls('sendMessage').filter((call) => call.body.chat_id === chatId);
    expect(third!.at - first!.at).toBeGreaterThanOrEqual(300);
  });

  it('never logs the token', () => {
    expect(logger.lines.join('\n')).not.toContain(fake.token);
  });
});

/** A shop's own pre-checkout refusals (German). */
const german: PreCheckoutTexts = {
  unavailable: 'Diese Bestellung gibt es nicht mehr.',
  alreadyPaid: 'Diese Bestellung ist schon bezahlt.',
  totalChanged: 'Der Betrag hat sich geändert; bitte fordere eine neue Rechnung an.',
  paymentsUnavailable: 'Zahlungen sind nicht möglich.',
  tryAgain: 'Bitte versuche es gleich noch einmal.',
};

/** Order 1001, open and unpaid, for 25.00 USD, unless `over` says otherwise. */
const openOrder = (over: Partial<OrderRecord>): OrderRecord =>
  ({ id: 1001, customer: address, customerId: 1, status: 0, paid: false, total: 2500, currency: 'USD', data: {}, createdAt: 0, updatedAt: 0, ...over }) as OrderRecord;

describe('the Telegram webhook', () => {
  let fake: FakeTelegram;
  afterEach(() => fake.close());

  const webhookOf = async (config: Partial<TelegramConfig> = {}, store = stubStore()) => {
    fake = await startFakeTelegram();
    const plugin = createTelegramPlugin({ token: fake.token, mode: 'webhook', apiRoot: fake.apiRoot, botInfo: fake.me, ...config }, { store, logger: recordingLogger() });
    return { plugin, webhook: plugin.webhook! };
  };
  const request = (secret?: string) => ({ rawBody: new Uint8Array(), headers: secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret } });

  it('accepts only the configured secret token, and everything when none is configured', async () => {
    const { webhook } = await webhookOf({ webhookSecret: 's3cret_token-1' });
    expect(webhook.name).toBe('telegram');
    expect(webhook.verify(request('s3cret_token-1'))).toBe(true);
    expect(webhook.verify(request('s3cret_token-2'))).toBe(false);
    expect(webhook.verify(request('s3cret'))).toBe(false);
    expect(webhook.verify(request())).toBe(false);
    await fake.close();
    const open = await webhookOf();
    expect(open.webhook.verify(request())).toBe(true);
  });

  it('answers a callback query once, however often the update is delivered', async () => {
    const { webhook } = await webhookOf();
    fake.push(fixture('callback_query')); // opens the query at the fake
    await fake.waitFor(() => (fake.pending.length > 0 ? true : undefined));
    const first = webhook.parse(fixture('callback_query'), now);
    const again = webhook.parse(fixture('callback_query'), now);
    expect(first.events).toHaveLength(1);
    expect(again.events).toEqual(first.events);
    await fake.waitFor(() => (fake.calls('answerCallbackQuery').length > 0 ? true : undefined), 'the answer');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.calls('answerCallbackQuery').map((call) => [call.body.callback_query_id, call.status])).toEqual([['530164827103857629', 200]]);
  });

  it('approves a pre-checkout query only for an open order of that amount and currency', async () => {
    const order = (over: Partial<OrderRecord>): OrderRecord =>
      ({ id: 1001, customer: address, customerId: 1, status: 0, paid: false, total: 2500, currency: 'USD', data: {}, createdAt: 0, updatedAt: 0, ...over }) as OrderRecord;
    const cases: [OrderRecord | undefined, boolean][] = [
      [order({}), true],
      [order({ total: 2400 }), false],
      [order({ paid: true }), false],
      [order({ status: 30 }), false],
      [undefined, false],
    ];
    for (const [index, [record, ok]] of cases.entries()) {
      const { webhook } = await webhookOf({ paymentToken: 'provider-token' }, stubStore({ orders: record ? [record] : [] }));
      const update = { ...fixture('pre_checkout_query'), pre_checkout_query: { ...(fixture('pre_checkout_query').pre_checkout_query as object), id: `pcq-${index}` } };
      fake.push(update);
      expect(webhook.parse(update, now)).toEqual({ events: [], ignored: 0 });
      const answer = await fake.waitFor(() => fake.calls('answerPreCheckoutQuery')[0], 'the pre-checkout answer');
      expect(answer.body.ok, `case ${index}`).toBe(ok);
      expect(answer.status).toBe(200);
      if (!ok) expect(answer.body.error_message).toEqual(expect.any(String));
      await fake.close();
    }
    fake = await startFakeTelegram();
  });

  it('answers a refused pre-checkout query in the words given to createTelegramPlugin', async () => {
    const answerTo = async (id: string, config: Partial<TelegramConfig>, store: Store) => {
      const { webhook } = await webhookOf({ preCheckoutTexts: german, ...config }, store);
      const update = { ...fixture('pre_checkout_query'), pre_checkout_query: { ...(fixture('pre_checkout_query').pre_checkout_query as object), id } };
      fake.push(update);
      webhook.parse(update, now);
      const answer = await fake.waitFor(() => fake.calls('answerPreCheckoutQuery')[0], 'the pre-checkout answer');
      await fake.close();
      return answer;
    };
    const paid = await answerTo('pcq-de-paid', { paymentToken: 'provider-token' }, stubStore({ orders: [openOrder({ paid: true })] }));
    expect(paid.body).toMatchObject({ pre_checkout_query_id: 'pcq-de-paid', ok: false, error_message: german.alreadyPaid });
    expect(paid.status).toBe(200);
    const noToken = await answerTo('pcq-de-off', {}, stubStore({ orders: [openOrder({})] }));
    expect(noToken.body).toMatchObject({ ok: false, error_message: german.paymentsUnavailable });
    const failing = { getOrder: () => Promise.reject(new Error('the store is down')) } as unknown as Store;
    const broken = await answerTo('pcq-de-down', { paymentToken: 'provider-token' }, failing);
    expect(broken.body).toMatchObject({ ok: false, error_message: german.tryAgain });
    fake = await startFakeTelegram();
  });
});

describe('the pre-checkout refusals', () => {
  const query = { invoicePayload: 'order:1001', currency: 'USD', totalAmount: 2500 };
  const refusal = (record: OrderRecord | undefined, texts?: PreCheckoutTexts) => checkPreCheckout(query, stubStore({ orders: record ? [record] : [] }), texts);

  it("are today's English when the shop passes none", async () => {
    expect(await refusal(undefined)).toEqual({ ok: false, error_message: 'This order is no longer available.' });
    expect(await refusal(openOrder({ status: 50 }))).toEqual({ ok: false, error_message: 'This order is no longer available.' });
    expect(await refusal(openOrder({ paid: true }))).toEqual({ ok: false, error_message: 'This order is already paid.' });
    expect(await refusal(openOrder({ total: 2400 }))).toEqual({ ok: false, error_message: 'The order total has changed; please ask for a new invoice.' });
    expect(defaultPreCheckoutTexts.paymentsUnavailable).toBe('Payments are not available.');
    expect(defaultPreCheckoutTexts.tryAgain).toBe('Please try again in a moment.');
  });

  it('are the texts the shop passed, one for each refusal', async () => {
    expect(await refusal(undefined, german)).toEqual({ ok: false, error_message: german.unavailable });
    expect(await refusal(openOrder({ paid: true }), german)).toEqual({ ok: false, error_message: german.alreadyPaid });
    expect(await refusal(openOrder({ currency: 'EUR' }), german)).toEqual({ ok: false, error_message: german.totalChanged });
    expect(await refusal(openOrder({}), german)).toEqual({ ok: true });
  });
});

describe('long polling', () => {
  let fake: FakeTelegram;
  const started: ChannelPlugin[] = [];
  beforeAll(async () => {
    fake = await startFakeTelegram();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map(async (plugin) => {
      await plugin.stop!();
      await plugin.close!();
    }));
  });
  afterAll(() => fake.close());

  const polling = (ingested: InboundEventInput[], fail: { times: number } = { times: 0 }) => {
    const plugin = createTelegramPlugin({ token: fake.token, mode: 'polling', apiRoot: fake.apiRoot }, { store: stubStore(), logger: recordingLogger() });
    started.push(plugin);
    const ingest = async (events: readonly InboundEventInput[]) => {
      if (fail.times-- > 0) throw new Error('the store is down');
      ingested.push(...events);
      return { accepted: events.length, duplicates: 0 };
    };
    return { plugin, ingest };
  };
  const texts = (events: InboundEventInput[]) => events.map((event) => (event.type === 'text' ? event.text : event.type));

  it('ingests pushed updates, and a restart continues from the confirmed offset without repeating or losing one', async () => {
    const ingested: InboundEventInput[] = [];
    const first = polling(ingested);
    await first.plugin.start!(first.ingest);
    expect(fake.calls('getMe')).toHaveLength(1);
    expect(fake.calls('deleteWebhook').at(-1)?.body).toMatchObject({ drop_pending_updates: false });
    fake.push(telegramUpdates.text(chat, 'one'));
    fake.push(telegramUpdates.text(chat, 'two'));
    await fake.waitFor(() => (ingested.length === 2 ? true : undefined), 'two events');
    await first.plugin.stop!();
    const confirmed = fake.confirmedBelow;
    expect(fake.pending).toHaveLength(0);

    fake.push(telegramUpdates.text(chat, 'three')); // while no one polls
    const second = polling(ingested);
    await second.plugin.start!(second.ingest);
    fake.push(telegramUpdates.text(chat, 'four'));
    await fake.waitFor(() => (ingested.length >= 4 ? true : undefined), 'four events');
    await second.plugin.stop!();
    expect(texts(ingested)).toEqual(['one', 'two', 'three', 'four']);
    expect(new Set(ingested.map((event) => event.id)).size).toBe(4);
    expect(fake.confirmedBelow).toBeGreaterThan(confirmed);
    expect(fake.pending).toHaveLength(0);
  });

  it('does not confirm a batch it could not store, and takes it again', async () => {
    const ingested: InboundEventInput[] = [];
    const { plugin, ingest } = polling(ingested, { times: 1 });
    await plugin.start!(ingest);
    const id = fake.push(telegramUpdates.text(chat, 'kept'));
    await fake.waitFor(() => (ingested.length === 1 ? true : undefined), 'the event, taken again', 10_000);
    const delivered = fake.calls('getUpdates').filter((call) => String(JSON.stringify(call.answer)).includes(`"update_id":${id}`));
    expect(delivered.length).toBeGreaterThanOrEqual(2); // refused once, then taken
    await plugin.stop!();
    expect(texts(ingested)).toEqual(['kept']);
    expect(fake.confirmedBelow).toBe(id + 1);
  });

  it('answers callback queries it polls, once each', async () => {
    const ingested: InboundEventInput[] = [];
    const { plugin, ingest } = polling(ingested);
    await plugin.start!(ingest);
    const [sent] = fake.messagesTo(chat).length > 0 ? fake.messagesTo(chat) : [undefined];
    const message = sent ?? { message_id: 1, chat: { id: chat, type: 'private' as const }, date: 1, from: { id: 1, is_bot: true as const, first_name: 'b', username: 'b' } };
    fake.push(telegramUpdates.callback(chat, message, 'browse', 'cb-polled'));
    await fake.waitFor(() => fake.calls('answerCallbackQuery').find((call) => call.body.callback_query_id === 'cb-polled'), 'the answer');
    await plugin.stop!();
    expect(ingested.map((event) => event.type === 'payload' && event.payload)).toEqual(['browse']);
    expect(fake.calls('answerCallbackQuery').filter((call) => call.body.callback_query_id === 'cb-polled')).toHaveLength(1);
  });

  it('stops at once while a long poll is waiting', async () => {
    const { plugin, ingest } = polling([]);
    await plugin.start!(ingest);
    await fake.waitFor(() => (fake.calls('getUpdates').length > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await plugin.stop!();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not hold the start for a Bot API that does not answer yet, and polls once it does', async () => {
    const ingested: InboundEventInput[] = [];
    const logger = recordingLogger();
    const plugin = createTelegramPlugin({ token: fake.token, mode: 'polling', apiRoot: fake.apiRoot, startWaitMs: 100 }, { store: stubStore(), logger });
    started.push(plugin);
    fake.fail('getMe', { kind: 'slow', ms: 1_000 });
    const began = Date.now();
    await plugin.start!(async (events) => {
      ingested.push(...events);
      return { accepted: events.length, duplicates: 0 };
    });
    expect(Date.now() - began).toBeLessThan(900);
    expect(logger.lines.join('\n')).toContain('the Bot API does not answer yet');
    fake.push(telegramUpdates.text(chat, 'late but there'));
    await fake.waitFor(() => (ingested.length === 1 ? true : undefined), 'the event', 10_000);
  });

  it('refuses to start with a token the Bot API refuses, without showing it', async () => {
    const plugin = createTelegramPlugin({ token: '7000000001:wrong', mode: 'polling', apiRoot: fake.apiRoot }, { store: stubStore(), logger: recordingLogger() });
    const error = await plugin.start!(async () => ({ accepted: 0, duplicates: 0 })).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toBe('Telegram could not start: 401 Unauthorized');
  });
});
